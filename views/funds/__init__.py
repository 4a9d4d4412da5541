"""Account funds and store credit as customers see them."""
