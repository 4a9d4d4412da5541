"""The shop's public side: the front page, categories, products and their pictures, the cart."""
