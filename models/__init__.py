"""Peewee models and the domain operations on them, one package per domain.

Views and jobs call functions from these packages; business rules live here, once.
"""
