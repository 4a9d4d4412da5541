"""The owner's customer groups (/admin/groups): the list, a new group, editing one, retiring one.

Staff see the list; creating, changing and retiring groups is the owner's.
"""

from flask import Blueprint
from flask import flash
from flask import request
from flask import url_for
from flask_babel import gettext
from flask_babel import ngettext
from flask_login import current_user

from forms.groups import GroupForm
from forms.groups import RetireGroupForm
from forms.translations import fill_translations
from forms.translations import translations_in
from forms.translations import with_other_languages
from models.base import write_transaction
from models.groups.group import active_groups
from models.groups.group import CustomerGroup
from models.groups.group import GroupError
from models.groups.group import member_counts
from models.groups.group import SETTING_FIELDS
from models.groups.management import create_group
from models.groups.management import retire_group
from models.groups.management import update_group
from models.shop.language import format_percent_bp
from models.shop.texts import save_translations
from models.shop.texts import translations
from views.lookups import row_or_404
from views.rendering import redirect_after_post
from views.rendering import render
from views.security import owner_required

bp = Blueprint("groups", __name__, url_prefix="/groups")


@bp.context_processor
def group_helpers():
    return {"percent_bp": format_percent_bp}


GROUP_FIELDS = (
    "name",
    "perks",
    "open_to_applications",
    "grants_referral_link",
    "is_default",
    "own_limits",
    *SETTING_FIELDS,
)


def group_form(**kwargs):
    """The group form, with the perks in each of the shop's other languages."""
    return with_other_languages(GroupForm, "perks")(**kwargs)


@bp.get("")
def index():
    retired = (
        CustomerGroup.select().where(CustomerGroup.retired_at.is_null(False)).order_by(CustomerGroup.name)
    )
    return render(
        "admin/groups/list.html", groups=active_groups(), retired=list(retired), counts=member_counts()
    )


@bp.route("/new", methods=["GET", "POST"])
@owner_required
def new():
    form = group_form()
    if form.validate_on_submit():
        if name_taken(form.name.data):
            form.name.errors.append(gettext("Another group already has that name."))
        else:
            with write_transaction():
                group = create_group(group_fields(form), current_user)
                save_translations(
                    "customer_group", group.id, "perks", translations_in(form, "perks"), current_user
                )
            flash(gettext("Group %(name)s created.", name=group.name), "success")
            return redirect_after_post(url_for(".index"))
    status = 422 if request.method == "POST" else 200
    return render("admin/groups/form.html", form=form, group=None, status=status)


@bp.route("/<id:group_id>", methods=["GET", "POST"])
@owner_required
def edit(group_id):
    group = active_group(group_id)
    form = group_form(obj=group)
    if request.method != "POST":
        fill_translations(form, "perks", translations("customer_group", group.id, "perks"))
    if form.validate_on_submit():
        if name_taken(form.name.data, group):
            form.name.errors.append(gettext("Another group already has that name."))
        elif group.is_default and not form.is_default.data:
            form.is_default.errors.append(
                gettext("Make another group the default instead; there must always be one.")
            )
        else:
            with write_transaction():
                update_group(group, group_fields(form), current_user)
                save_translations(
                    "customer_group", group.id, "perks", translations_in(form, "perks"), current_user
                )
            flash(gettext("Group %(name)s saved.", name=group.name), "success")
            return redirect_after_post(url_for(".index"))
    status = 422 if request.method == "POST" else 200
    return render("admin/groups/form.html", form=form, group=group, status=status)


@bp.route("/<id:group_id>/retire", methods=["GET", "POST"])
@owner_required
def retire(group_id):
    group = active_group(group_id)
    form = RetireGroupForm()
    form.move_to.choices = [(g.id, g.name) for g in active_groups() if g.id != group.id]
    if form.validate_on_submit():
        try:
            moved = retire_group(group, CustomerGroup.get_by_id(form.move_to.data), current_user)
        except GroupError as error:
            form.move_to.errors.append(str(error))
        else:
            flash(
                ngettext(
                    "%(name)s is retired; %(num)d member moved.",
                    "%(name)s is retired; %(num)d members moved.",
                    moved,
                    name=group.name,
                ),
                "success",
            )
            return redirect_after_post(url_for(".index"))
    status = 422 if request.method == "POST" else 200
    return render(
        "admin/groups/retire.html",
        form=form,
        group=group,
        members=member_counts().get(group.id, 0),
        status=status,
    )


def active_group(group_id):
    return row_or_404(CustomerGroup, group_id, CustomerGroup.retired_at.is_null())


def name_taken(name, group=None):
    query = CustomerGroup.select().where(CustomerGroup.name == name)
    if group is not None:
        query = query.where(CustomerGroup.id != group.id)
    return query.exists()


def group_fields(form):
    return {name: form[name].data for name in GROUP_FIELDS}
