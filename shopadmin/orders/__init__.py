"""Orders: the orders list, each customer's previous orders and the storefront intake API."""
