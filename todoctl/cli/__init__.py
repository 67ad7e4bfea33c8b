"""The command line: parse options, call one core function, hand the result to the renderer."""
