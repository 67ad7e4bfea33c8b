"""shop: a third test app, its tables in schema `shop`."""
