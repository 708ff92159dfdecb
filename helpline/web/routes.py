"""The whole HTTP surface, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from helpline.channels.sms.webhook import SmsWebhooks
from helpline.web.api import SessionApi
from helpline.web.api_admin import AdminApi
from helpline.web.api_conversations import ConversationApi
from helpline.web.api_oversight import OversightApi
from helpline.web.health import Health
from helpline.web.live import ConsoleLive
from helpline.web.pages import STATIC, Pages


@dataclass(frozen=True)
class Handlers:
    """Every handler object the routes point at; app.py builds them."""

    pages: Pages
    health: Health
    session: SessionApi
    conversations: ConversationApi
    oversight: OversightApi
    admin: AdminApi
    live: ConsoleLive
    sms: SmsWebhooks | None


def add_routes(app: web.Application, handlers: Handlers) -> None:
    pages, session, convs = handlers.pages, handlers.session, handlers.conversations
    oversight, admin = handlers.oversight, handlers.admin
    conversation = "/api/conversations/{conversation_id}"
    app.router.add_routes(
        [
            web.get("/healthz", handlers.health.healthz, name="healthz"),
            web.get("/readyz", handlers.health.readyz, name="readyz"),
            web.get("/", pages.root, name="root"),
            web.get("/favicon.ico", pages.favicon, name="favicon"),
            # Console pages: static shells that load their data from the API.
            web.get("/login", pages.page("login.html"), name="login"),
            web.get("/console", pages.page("console.html"), name="console"),
            web.get("/console/conversations/{conversation_id}", pages.page("conversation.html"), name="console-conv"),
            web.get("/console/records/{record_id}", pages.page("record.html"), name="console-record"),
            web.get("/console/totp", pages.page("totp.html"), name="console-totp"),
            web.get("/console/floor", pages.page("floor.html"), name="console-floor"),
            web.get("/console/admin", pages.page("admin.html"), name="console-admin"),
            web.get("/console/ws", handlers.live.handle, name="console-ws"),
            web.static("/static", STATIC, name="static", append_version=False),
            # The signed-in user.
            web.post("/api/login", session.login, name="api-login"),
            web.post("/api/logout", session.logout, name="api-logout"),
            web.get("/api/session", session.session, name="api-session"),
            web.post("/api/me/availability", session.availability, name="api-availability"),
            web.post("/api/totp/enrol", session.totp_enrol, name="api-totp-enrol"),
            web.get("/api/totp/qr.svg", session.totp_qr, name="api-totp-qr"),
            web.post("/api/totp/confirm", session.totp_confirm, name="api-totp-confirm"),
            # The queue and conversations.
            web.get("/api/queue", convs.queue, name="api-queue"),
            web.post("/api/queue/take", convs.take_next, name="api-take-next"),
            web.get("/api/staff/available", convs.available_staff, name="api-staff-available"),
            web.get(conversation, convs.conversation, name="api-conversation"),
            web.post(f"{conversation}/claim", convs.claim, name="api-claim"),
            web.post(f"{conversation}/messages", convs.reply, name="api-reply"),
            web.post(f"{conversation}/notes", convs.add_note, name="api-note"),
            web.post(f"{conversation}/transfer", convs.transfer, name="api-transfer"),
            web.post(f"{conversation}/close", convs.close, name="api-close"),
            web.post(f"{conversation}/block", convs.block, name="api-block"),
            # Records, supervision.
            web.get("/api/records/{record_id}", oversight.record, name="api-record"),
            web.get("/api/floor", oversight.floor, name="api-floor"),
            web.get("/api/blocks", oversight.blocks, name="api-blocks"),
            web.post("/api/blocks/{block_id}/lift", oversight.lift_block, name="api-block-lift"),
            # Canned responses and administration.
            web.get("/api/canned", admin.canned, name="api-canned"),
            web.post("/api/admin/canned", admin.save_canned, name="api-canned-add"),
            web.post("/api/admin/canned/{canned_id}", admin.save_canned, name="api-canned-save"),
            web.post("/api/admin/canned/{canned_id}/delete", admin.delete_canned, name="api-canned-delete"),
            web.get("/api/admin/users", admin.users, name="api-users"),
            web.post("/api/admin/users", admin.add_user, name="api-user-add"),
            web.post("/api/admin/users/{username}/{action}", admin.user_action, name="api-user-action"),
            web.get("/api/admin/hours", admin.hours, name="api-hours"),
            web.post("/api/admin/hours", admin.save_hours, name="api-hours-save"),
        ]
    )
    if handlers.sms is not None:
        app.router.add_post("/webhooks/twilio/sms", handlers.sms.inbound, name="twilio-sms")
        app.router.add_post("/webhooks/twilio/status", handlers.sms.status, name="twilio-status")
