"""Peewee models and the domain operations on them.

Views call functions from these modules; business rules live here, once.
"""
