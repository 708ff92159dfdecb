"""The whole HTTP surface, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from helpline.channels.sms.webhook import SmsWebhooks
from helpline.channels.webchat.forms import ChatPages
from helpline.channels.webchat.socket import ChatSockets
from helpline.web.api import SessionApi
from helpline.web.api_admin import AdminApi
from helpline.web.api_conversations import ConversationApi
from helpline.web.api_erasure import ErasureApi
from helpline.web.api_oversight import OversightApi
from helpline.web.api_reports import ReportApi
from helpline.web.api_safeguarding import SafeguardingApi
from helpline.web.health import Health
from helpline.web.live import ConsoleLive
from helpline.web.metrics import Metrics
from helpline.web.pages import Pages


@dataclass(frozen=True)
class Handlers:
    """Every handler object the routes point at; app.py builds them."""

    pages: Pages
    health: Health
    session: SessionApi
    conversations: ConversationApi
    oversight: OversightApi
    admin: AdminApi
    safeguarding: SafeguardingApi
    live: ConsoleLive
    metrics: Metrics
    sms: SmsWebhooks | None
    webchat_pages: ChatPages | None = None
    webchat_sockets: ChatSockets | None = None
    erasure: ErasureApi | None = None
    reports: ReportApi | None = None


def add_routes(app: web.Application, handlers: Handlers) -> None:
    pages, session, convs = handlers.pages, handlers.session, handlers.conversations
    oversight, admin, safe = handlers.oversight, handlers.admin, handlers.safeguarding
    conversation = "/api/conversations/{conversation_id}"
    app.router.add_routes(
        [
            web.get("/healthz", handlers.health.healthz, name="healthz"),
            web.get("/readyz", handlers.health.readyz, name="readyz"),
            web.get("/metrics", handlers.metrics.handle, name="metrics"),
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
            web.get("/console/escalations", pages.page("escalations.html"), name="console-escalations"),
            web.get("/console/ws", handlers.live.handle, name="console-ws"),
            web.get("/static/{name}", pages.asset, name="static"),
            # The signed-in user.
            web.post("/api/login", session.login, name="api-login"),
            web.post("/api/logout", session.logout, name="api-logout"),
            web.get("/api/session", session.session, name="api-session"),
            web.post("/api/me/availability", session.availability, name="api-availability"),
            web.post("/api/me/message-sound", session.message_sound, name="api-message-sound"),
            web.post("/api/me/password", session.change_password, name="api-change-password"),
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
            web.post(f"{conversation}/typing", convs.typing, name="api-typing"),
            web.post(f"{conversation}/transfer", convs.transfer, name="api-transfer"),
            web.post(f"{conversation}/close", convs.close, name="api-close"),
            web.post(f"{conversation}/block", convs.block, name="api-block"),
            # Records, supervision.
            web.get("/api/records/{record_id}", oversight.record, name="api-record"),
            web.get("/api/floor", oversight.floor, name="api-floor"),
            web.get("/api/blocks", oversight.blocks, name="api-blocks"),
            web.post("/api/blocks/{block_id}/lift", oversight.lift_block, name="api-block-lift"),
            # Safeguarding: flags, escalations, oversight, break-glass disclosure.
            web.post(f"{conversation}/flag", safe.flag, name="api-flag"),
            web.get(f"{conversation}/escalations", safe.conversation_escalations, name="api-conv-escalations"),
            web.post(f"{conversation}/join", safe.join, name="api-join"),
            web.post(f"{conversation}/whisper", safe.whisper, name="api-whisper"),
            web.post(f"{conversation}/disclosures", safe.request_disclosure, name="api-disclosure-request"),
            web.get("/api/escalations", safe.escalations, name="api-escalations"),
            web.post("/api/escalations/{escalation_id}/acknowledge", safe.acknowledge, name="api-escalation-ack"),
            web.post("/api/escalations/{escalation_id}/decide", safe.decide, name="api-escalation-decide"),
            web.post("/api/escalations/{escalation_id}/close", safe.close, name="api-escalation-close"),
            web.get("/api/disclosures", safe.disclosures, name="api-disclosures"),
            web.post("/api/disclosures/{disclosure_id}/approve", safe.approve, name="api-disclosure-approve"),
            web.post("/api/disclosures/{disclosure_id}/refuse", safe.refuse, name="api-disclosure-refuse"),
            web.post("/api/disclosures/{disclosure_id}/reveal", safe.reveal, name="api-disclosure-reveal"),
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
    if handlers.erasure is not None:
        erase = handlers.erasure.erase_record
        app.router.add_post("/api/admin/records/{record_id}/erase", erase, name="api-record-erase")
    if handlers.reports is not None:
        # Reports for supervisors and admins (a page rendered on the server, its downloads), and the floor's
        # figures for today.
        reports = handlers.reports
        app.router.add_routes(
            [
                web.get("/console/reports", reports.page, name="console-reports"),
                web.get("/api/reports", reports.json, name="api-reports"),
                web.get("/api/reports.csv", reports.csv, name="api-reports-csv"),
                web.get("/api/floor/today", reports.today, name="api-floor-today"),
            ]
        )
    if handlers.sms is not None:
        app.router.add_post("/webhooks/twilio/sms", handlers.sms.inbound, name="twilio-sms")
        app.router.add_post("/webhooks/twilio/status", handlers.sms.status, name="twilio-status")
    chat, chat_socket = handlers.webchat_pages, handlers.webchat_sockets
    if chat is not None and chat_socket is not None:
        # The web chat: pages for the contact (standalone and inside the widget's iframe), the plain-HTML
        # forms used without JavaScript, the socket, and the one script a host page includes.
        app.router.add_routes(
            [
                web.get("/chat", chat.page, name="chat"),
                web.get("/chat/frame", chat.frame, name="chat-frame"),
                web.get("/chat/ws", chat_socket.handle, name="chat-ws"),
                web.post("/chat/send", chat.send, name="chat-send"),
                web.post("/chat/refresh", chat.refresh, name="chat-refresh"),
                web.post("/chat/end", chat.end, name="chat-end"),
                web.post("/chat/exit", chat.exit, name="chat-exit"),
                web.get("/chat/static/{name}", chat.asset, name="chat-static"),
                web.get("/widget.js", chat.widget, name="widget"),
            ]
        )
