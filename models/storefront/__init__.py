"""The shop's public side: the catalogue (categories, products, their pictures) and carts (one per
visitor, one per customer, carried into the account on sign-in).

Called from outside: catalog.py (`active_products`, `active_product`, `create_product`,
`update_product`, `store_image`), cart.py (`add_to_cart`, `set_quantity`, `cart_summary`,
`find_cart`, `carry_into_account`).
"""
