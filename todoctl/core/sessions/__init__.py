"""Other sessions on the database, shown safely.

    others      who they are, how long, who holds locks on the app's tables, how to end one
    query_text  their SQL with its literals masked (libpg_query's lexer)

Modules are imported by their own path.
"""
