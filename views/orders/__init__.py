"""Orders as customers see them: checkout, their orders, paying them."""
