"""Staff roles (/admin/staff): the owner makes a customer staff, or takes the role back."""

from flask import Blueprint
from flask import flash
from flask import request
from flask import url_for
from flask_babel import gettext
from flask_login import current_user

from forms.accounts import EmailOnlyForm
from models.accounts.staff import grant_staff
from models.accounts.staff import revoke_staff
from models.accounts.staff import staff_members
from models.groups.group import GroupError
from views.rendering import redirect_after_post
from views.rendering import render
from views.security import owner_required

bp = Blueprint("staff", __name__, url_prefix="/staff")


@bp.route("", methods=["GET", "POST"])
@owner_required
def index():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        try:
            user = grant_staff(form.email.data, current_user)
        except GroupError as error:
            form.email.errors.append(str(error))
        else:
            flash(gettext("%(email)s is now staff.", email=user.email), "success")
            return redirect_after_post(url_for(".index"))
    status = 422 if request.method == "POST" else 200
    return render("admin/staff/index.html", form=form, members=staff_members(), status=status)


@bp.post("/<id:user_id>/revoke")
@owner_required
def revoke(user_id):
    try:
        user = revoke_staff(user_id, current_user)
        flash(gettext("%(email)s is no longer staff.", email=user.email), "success")
    except GroupError as error:
        flash(str(error), "error")
    return redirect_after_post(url_for(".index"))
