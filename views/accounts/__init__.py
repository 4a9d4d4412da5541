"""Accounts: signing in, registering, the emailed code and links, and My Account."""
