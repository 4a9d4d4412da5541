"""A shop that reads like a shop (issue 22).

- `shop_settings.tagline`: a short line the owner writes, shown under the shop's name on the
  home page ("" shows nothing; the demo sets one).
- The VIP group that migration 0003 seeded described its bonus as "a 5 bonus on every top-up of
  100": amounts without their currency. Where the owner has not rewritten it, the text now says
  what the group is for; the amounts are listed under it by the pages and emails, written with
  the shop's currency from the group's own numbers (CustomerGroup.perk_facts), so they stay right
  when the owner changes them.
"""

from peewee import CharField
from peewee import Table

SEEDED_VIP_PERKS = "2% off when you pay with account funds, and a 5 bonus on every top-up of 100."
VIP_PERKS = "Our thanks to regular customers: a discount when you pay with account funds, and a bonus on larger top-ups."


def up(migrator, db):
    migrator.migrate(migrator.add_column("shop_settings", "tagline", CharField(default="")))
    groups = Table("customer_group", ("id", "name", "perks")).bind(db)
    groups.update({groups.perks: VIP_PERKS}).where(
        (groups.name == "VIP") & (groups.perks == SEEDED_VIP_PERKS)
    ).execute()


def down(migrator, db):
    migrator.migrate(migrator.drop_column("shop_settings", "tagline"))
