"""Customer groups: which group a customer is in and what it allows them, the applications
customers make and the owner decides, the owner's group management, referral links.

Every customer is in exactly one group; new accounts start in the default one (`new_member`).
Money, orders and reminders read a customer's settings through `settings_for(user)`. A change
of membership or of a group's settings is announced through `member_moved` / `group_changed`;
credit limits follow (models/reactions.py).

Called from outside: group.py (`settings_for`, `group_of`, `new_member`, `CustomerGroup`,
`GroupError`), applications.py (`apply_for`, `withdraw`, `decide`, `pending_applications`),
management.py (`create_group`, `update_group`, `retire_group`), referrals.py.
"""
