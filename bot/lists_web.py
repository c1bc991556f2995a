"""Public pages of the lists: one-click unsubscribe (RFC 8058), preferences, subscription with double opt-in.

A GET (or HEAD) never changes anything: link scanners and previews follow links in mail. Only a
POST does, and only with a token we signed: the one-click POST needs the RFC 8058 body
`List-Unsubscribe=One-Click`, and every form POST passes the CSRF check of `bot.csrf`. The
mail the subscription form causes holds nothing typed into the form but the address it goes to.
"""

from __future__ import annotations

from aiohttp import web

from bot import csrf
from bot.web_pages import DESK_KEY, message, page
from handlers import lists
from handlers.addresses import envelope_address
from handlers.signing import BadToken
from handlers.list_tokens import read_confirm_token, read_unsubscribe_token
from models.lists import MailingList
from models.partnerships import Contact

def add_routes(app: web.Application) -> None:
    app.router.add_get("/unsubscribe", unsubscribe_page)
    app.router.add_post("/unsubscribe", unsubscribe_one_click)
    app.router.add_post("/preferences", save_preferences)
    app.router.add_get("/subscribe", subscribe_page)
    app.router.add_post("/subscribe", subscribe)
    app.router.add_get("/subscribe/confirm", confirm_page)
    app.router.add_post("/subscribe/confirm", confirm)


async def _checked_form(request: web.Request, form: str):
    """The posted form, or a 403 page when it fails the CSRF check."""
    data = await request.post()
    why = csrf.refusal(request, request.app[DESK_KEY].settings, form, str(data.get(csrf.FIELD, "")))
    if why:
        return None, message("This form cannot be accepted", f"{why[0].upper()}{why[1:]}. Nothing was changed.",
                              "Open the page again and send the form from there.", status=403)
    return data, None


def _bad_link() -> web.Response:
    return message("This link is not valid", "The link is incomplete or was changed. Nothing was changed.",
                    "Use the link from the most recent mail you received from us.", status=400)


def _signed(request: web.Request, read):
    """What the link's `token` carries, read by `read`; None when the token is not one we signed."""
    try:
        return read(request.app[DESK_KEY].settings, request.query.get("token", ""))
    except BadToken:
        return None


async def _token_target(request: web.Request) -> tuple[Contact, MailingList] | None:
    if (payload := _signed(request, read_unsubscribe_token)) is None:
        return None
    contact_id, list_id = payload
    desk = request.app[DESK_KEY]
    async with desk.db.session() as session:
        contact, mlist = await session.get(Contact, contact_id), await session.get(MailingList, list_id)
    if contact is None or mlist is None or contact.erased_at is not None:
        return None
    return contact, mlist


async def unsubscribe_one_click(request: web.Request) -> web.Response:
    """RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click`; we unsubscribe at once and say 200."""
    target = await _token_target(request)
    if target is None:
        return _bad_link()
    if (await request.post()).get("List-Unsubscribe") != "One-Click":
        return message("Nothing was changed", "This address takes the one-click request of RFC 8058 "
                        "(a POST with the body List-Unsubscribe=One-Click).", "To leave a list, open the link "
                        "in your mail in a browser.", status=400)
    contact, mlist = target
    desk = request.app[DESK_KEY]
    async with desk.db.transaction() as session:
        await lists.leave(session, await session.get(Contact, contact.id), [mlist], how="one-click")
    return message("You have left the list", f"{contact.email} will receive nothing more from the list {mlist.name}.")


async def _preferences_response(request: web.Request, contact: Contact, notice: str = "") -> web.Response:
    desk = request.app[DESK_KEY]
    async with desk.db.session() as session:
        items = await lists.preferences(session, contact)
    return page("preferences", request=request, form="preferences", title="Your EOCIC mailings",
                 email=contact.email, lists=items, token=request.query.get("token", ""), notice=notice)


async def unsubscribe_page(request: web.Request) -> web.Response:
    target = await _token_target(request)
    if target is None:
        return _bad_link()
    return await _preferences_response(request, target[0])


async def save_preferences(request: web.Request) -> web.Response:
    target = await _token_target(request)
    if target is None:
        return _bad_link()
    form, refused = await _checked_form(request, "preferences")
    if refused:
        return refused
    desk = request.app[DESK_KEY]
    async with desk.db.transaction() as session:
        contact = await session.get(Contact, target[0].id)
        if form.get("action") == "leave-all":
            await lists.leave(session, contact, None, how="preferences-leave-all")
            notice = "You have left every EOCIC list."
        else:
            changes = await lists.apply_preferences(session, contact, set(form.getall("list", [])))
            notice = "Saved." + (f" Left: {', '.join(changes['left'])}." if changes["left"] else "") + (
                f" Back on: {', '.join(changes['rejoined'])}." if changes["rejoined"] else "")
    return await _preferences_response(request, contact, notice)


async def _public_lists(desk) -> list[MailingList]:
    async with desk.db.session() as session:
        return await lists.all_lists(session)


async def subscribe_page(request: web.Request) -> web.Response:
    return page("subscribe", request=request, form="subscribe", title="Subscribe to EOCIC mailings", error="",
                 lists=await _public_lists(request.app[DESK_KEY]))


async def subscribe(request: web.Request) -> web.Response:
    desk = request.app[DESK_KEY]
    form, refused = await _checked_form(request, "subscribe")
    if refused:
        return refused
    wanted = set(form.getall("list", []))
    try:
        address = envelope_address(str(form.get("email", "")).strip())
        async with desk.db.transaction() as session:
            chosen = [m for m in await lists.all_lists(session) if m.name in wanted]
            if not chosen:
                raise ValueError("Tick at least one list.")
            await lists.start_subscription(session, desk.settings, address, chosen, source="web-form")
    except ValueError as exc:
        return page("subscribe", status=400, request=request, form="subscribe", title="Subscribe to EOCIC mailings",
                     error=str(exc), lists=await _public_lists(desk))
    desk.deps.mail_queued()
    # The same answer whether or not the address was known or suppressed: the form reveals nothing.
    return message("Please check your mailbox", "We have sent you a mail with a link to confirm your subscription.")


async def _confirm_target(request: web.Request):
    if (payload := _signed(request, read_confirm_token)) is None:
        return None
    contact_id, list_ids = payload
    desk = request.app[DESK_KEY]
    async with desk.db.session() as session:
        contact = await session.get(Contact, contact_id)
        names = [m.name for m in await lists.all_lists(session) if m.id in list_ids]
    if contact is None or contact.erased_at is not None:
        return None
    return contact, list_ids, names


async def confirm_page(request: web.Request) -> web.Response:
    target = await _confirm_target(request)
    if target is None:
        return _bad_link()
    contact, _, names = target
    return page("confirm", request=request, form="confirm", title="Confirm your subscription", email=contact.email,
                 lists=names, token=request.query.get("token", ""))


async def confirm(request: web.Request) -> web.Response:
    target = await _confirm_target(request)
    if target is None:
        return _bad_link()
    contact, list_ids, _ = target
    _, refused = await _checked_form(request, "confirm")
    if refused:
        return refused
    desk = request.app[DESK_KEY]
    async with desk.db.transaction() as session:
        confirmed = await lists.confirm_subscription(session, contact.id, list_ids)
    if not confirmed:
        return message("Nothing to confirm", "These subscriptions were confirmed already, or you left them since.")
    return message("Thank you", f"{contact.email} is now subscribed to: {', '.join(confirmed)}.")
