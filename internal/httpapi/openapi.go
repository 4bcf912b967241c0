package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/events"
)

// operation documents one route in the OpenAPI document. The list below is
// written by hand, apart from routes.go, and a test checks that the two
// agree in both directions: a route without documentation, or
// documentation of a route that does not exist, fails the build.
type operation struct {
	method, path string
	tag, summary string
	auth         access
	roles        []account.Role
	body         string // schema name of the request body, "" for none
	status       int    // success status
	response     string // schema name of the success body, "" for none
	errors       []int  // statuses beyond the ones every route may return
}

var operations = []operation{
	{method: "GET", path: "/healthz", tag: "operations", summary: "Health check: 200 while serving, 503 if the database is unreachable", status: 200, response: "Health"},
	{method: "GET", path: "/livez", tag: "operations", summary: "Liveness: 200 while the process serves HTTP, whatever the state of the database (for an orchestrator's restart check)", status: 200, response: "Liveness"},
	{method: "GET", path: "/readyz", tag: "operations", summary: "Readiness: 200 when this node should get traffic; 503 draining from the moment a graceful shutdown starts, or unavailable (reason database or storage)", status: 200, response: "Readiness"},
	{method: "GET", path: "/metrics", tag: "operations", summary: "Prometheus metrics (text exposition format)", status: 200, response: "text"},
	{method: "GET", path: "/api/v1/openapi.json", tag: "operations", summary: "This document", status: 200, response: "object"},

	{method: "GET", path: "/api/v1/terms", tag: "accounts", summary: "The current terms of service", status: 200, response: "Terms"},
	{method: "POST", path: "/api/v1/setup", tag: "accounts", summary: "First run: register the first administrator with the one-time setup token the server logged at start; 404 for a wrong token or when the server logged none, 409 once an administrator exists", body: "Setup", status: 201, response: "SignedIn", errors: []int{400, 403, 404, 409, 429}},
	{method: "POST", path: "/api/v1/accounts", tag: "accounts", summary: "Register: accepts the current terms; under the minimum age stores nothing", body: "Registration", status: 201, response: "SignedIn", errors: []int{400, 403, 409, 429}},
	{method: "POST", path: "/api/v1/sessions", tag: "accounts", summary: "Sign in; the same error for an unknown handle and a wrong password", body: "Login", status: 201, response: "SignedIn", errors: []int{400, 401, 429}},
	{method: "DELETE", path: "/api/v1/sessions/current", tag: "accounts", summary: "Sign out of this session", auth: anyStanding, status: 204},

	{method: "GET", path: "/api/v1/me", tag: "accounts", summary: "One's own account, with its standing and terms state; works while suspended or closed", auth: anyStanding, status: 200, response: "Me"},
	{method: "PATCH", path: "/api/v1/me", tag: "accounts", summary: "Change one's display name and/or language (en or zh-CN, the language of the text messages the server sends); a bad value changes nothing", auth: signedIn, body: "MePatch", status: 200, response: "Me", errors: []int{400}},
	{method: "DELETE", path: "/api/v1/me", tag: "accounts", summary: "Schedule one's account's deletion (password required) after the grace period (default 14 days); every session ends, and signing in again until then shows deletion_scheduled_at; allowed in any standing", auth: anyStanding, body: "Password", status: 202, response: "DeletionScheduled", errors: []int{400, 403, 409}},
	{method: "POST", path: "/api/v1/me/deletion/cancel", tag: "accounts", summary: "Keep one's account: cancel its scheduled deletion (409 if none is scheduled or the erasure has started); allowed in any standing", auth: anyStanding, status: 200, response: "Me", errors: []int{409}},
	{method: "POST", path: "/api/v1/me/password", tag: "accounts", summary: "Change one's password (the current one required); signs out every other session and closes its streams; allowed in any standing", auth: anyStanding, body: "PasswordChange", status: 204, errors: []int{400, 403, 429}},
	{method: "GET", path: "/api/v1/me/sessions", tag: "accounts", summary: "One's signed-in sessions", auth: anyStanding, status: 200, response: "SessionList"},
	{method: "DELETE", path: "/api/v1/me/sessions/{id}", tag: "accounts", summary: "Revoke one of one's sessions", auth: anyStanding, status: 204, errors: []int{404}},
	{method: "POST", path: "/api/v1/me/consents", tag: "accounts", summary: "Accept the current terms version", auth: consenting, body: "Consent", status: 204, errors: []int{400}},
	{method: "GET", path: "/api/v1/me/legacy-contact", tag: "accounts", summary: "One's legacy contact: who looks after the account once it is memorialised; 204 when none is chosen", auth: signedIn, status: 200, response: "LegacyContact"},
	{method: "PUT", path: "/api/v1/me/legacy-contact", tag: "accounts", summary: "Choose one's legacy contact (one of one's contacts, an active account) and whether they may download the account's data", auth: signedIn, body: "LegacyContactSet", status: 200, response: "LegacyContact", errors: []int{400, 403}},
	{method: "GET", path: "/api/v1/me/privacy", tag: "people", summary: "Who may find you: by exact handle (default on) and by your verified phone number (default off)", auth: signedIn, status: 200, response: "Privacy"},
	{method: "PATCH", path: "/api/v1/me/privacy", tag: "people", summary: "Change find_by_handle and/or find_by_phone; answers all the settings", auth: signedIn, body: "PrivacyPatch", status: 200, response: "Privacy", errors: []int{400}},
	{method: "PUT", path: "/api/v1/me/avatar", tag: "people", summary: "Make one of your uploaded images your profile photo: the server keeps a centred square copy (256×256 and 64×64, re-encoded without metadata) as a new media item; someone else's or an unknown media_id 404, not an image 400; answers your profile with its new avatar_url", auth: signedIn, body: "AvatarSet", status: 200, response: "Profile", errors: []int{400, 404, 429}},
	{method: "DELETE", path: "/api/v1/me/avatar", tag: "people", summary: "Remove your profile photo (its copy is deleted)", auth: signedIn, status: 204},
	{method: "POST", path: "/api/v1/me/invites", tag: "people", summary: "Make an invite link /add/TOKEN (for a QR code) that works for 7 days; the token is shown only now; at most 20 working links (409)", auth: signedIn, status: 201, response: "InviteCreated", errors: []int{409}},
	{method: "GET", path: "/api/v1/me/invites", tag: "people", summary: "Your working invite links, newest first, without their tokens (a 4-character prefix tells them apart)", auth: signedIn, status: 200, response: "InviteList"},
	{method: "DELETE", path: "/api/v1/me/invites/{id}", tag: "people", summary: "Revoke an invite link; someone else's, expired or revoked 404", auth: signedIn, status: 204, errors: []int{404}},
	{method: "DELETE", path: "/api/v1/me/legacy-contact", tag: "accounts", summary: "Remove one's legacy contact", auth: signedIn, status: 204, errors: []int{404}},

	{method: "POST", path: "/api/v1/me/exports", tag: "your data", summary: "Ask for an export of everything one has (a ZIP written in the background); one at a time (409 with details.export_id), 5 a day (429); allowed in any standing", auth: anyStanding, status: 202, response: "Export", errors: []int{409, 429}},
	{method: "GET", path: "/api/v1/me/exports", tag: "your data", summary: "The exports one asked for, newest first (at most 50); allowed in any standing", auth: anyStanding, status: 200, response: "ExportList"},
	{method: "GET", path: "/api/v1/me/exports/{id}", tag: "your data", summary: "One export and its progress; someone else's answers 404; allowed in any standing", auth: anyStanding, status: 200, response: "Export", errors: []int{404}},
	{method: "GET", path: "/api/v1/me/exports/{id}/download", tag: "your data", summary: "The export's ZIP (the download_url), to whoever asked for it (others 404); 409 while it is written, 410 once expired or failed; Range supported; allowed in any standing", auth: anyStanding, status: 200, response: "bytes", errors: []int{404, 409, 410}},

	{method: "GET", path: "/api/v1/verification-policy", tag: "identity", summary: "Which actions need which verification level (none, phone, identity)", status: 200, response: "Policy"},
	{method: "POST", path: "/api/v1/me/phone", tag: "identity", summary: "Send a 6-digit code to a phone number (valid 10 minutes; resend after 60 s)", auth: signedIn, body: "Phone", status: 202, response: "CodeSent", errors: []int{400, 409, 429}},
	{method: "POST", path: "/api/v1/me/phone/verify", tag: "identity", summary: "Confirm the code (at most 5 attempts)", auth: signedIn, body: "Code", status: 200, response: "Verification", errors: []int{400, 409}},
	{method: "POST", path: "/api/v1/me/identity", tag: "identity", summary: "Submit a legal identity for review; stored encrypted, never shown publicly", auth: signedIn, body: "IdentitySubmission", status: 202, response: "Identity", errors: []int{400, 409}},
	{method: "GET", path: "/api/v1/me/identity", tag: "identity", summary: "One's latest identity submission and its outcome (without name or number)", auth: signedIn, status: 200, response: "Identity", errors: []int{404}},
	{method: "POST", path: "/api/v1/webhooks/identity/{provider}", tag: "identity", summary: "A verification provider's decision, signed: X-Plaza-Timestamp and X-Plaza-Signature: sha256=HMAC-SHA256(secret, TIMESTAMP.BODY)", body: "ProviderDecision", status: 200, response: "object", errors: []int{400, 401, 404, 409}},

	{method: "POST", path: "/api/v1/contacts/requests", tag: "contacts", summary: "Ask someone to become a contact, with a note (account_id, or the invite_token of their invite link); if they had asked you, you become contacts at once (200)", auth: signedIn, body: "ContactRequestNew", status: 201, response: "ContactRequest", errors: []int{400, 404, 409}},
	{method: "GET", path: "/api/v1/contacts/requests", tag: "contacts", summary: "Pending contact requests (?direction=incoming|outgoing)", auth: signedIn, status: 200, response: "ContactRequestList", errors: []int{400}},
	{method: "POST", path: "/api/v1/contacts/requests/{id}/accept", tag: "contacts", summary: "Accept a request addressed to you", auth: signedIn, status: 200, response: "ContactRequest", errors: []int{404, 409}},
	{method: "POST", path: "/api/v1/contacts/requests/{id}/decline", tag: "contacts", summary: "Decline a request addressed to you (the sender is not told)", auth: signedIn, status: 200, response: "ContactRequest", errors: []int{404, 409}},
	{method: "GET", path: "/api/v1/contacts", tag: "contacts", summary: "Your contacts", auth: signedIn, status: 200, response: "ContactList"},
	{method: "DELETE", path: "/api/v1/contacts/{id}", tag: "contacts", summary: "Remove a contact (both ways)", auth: signedIn, status: 204, errors: []int{404}},
	{method: "POST", path: "/api/v1/blocks", tag: "contacts", summary: "Block someone: no contact requests, direct messages or invitations from them", auth: signedIn, body: "AccountRef", status: 204, errors: []int{400, 404}},
	{method: "GET", path: "/api/v1/blocks", tag: "contacts", summary: "Whom you blocked", auth: signedIn, status: 200, response: "BlockList"},
	{method: "DELETE", path: "/api/v1/blocks/{id}", tag: "contacts", summary: "Unblock", auth: signedIn, status: 204, errors: []int{404}},

	{method: "POST", path: "/api/v1/conversations", tag: "chat", summary: "Open a direct conversation (200 with the existing one) or create a group", auth: signedIn, body: "ConversationNew", status: 201, response: "Conversation", errors: []int{400, 404}},
	{method: "GET", path: "/api/v1/conversations", tag: "chat", summary: "Your conversations, most recent first, with unread_count and last_message", auth: signedIn, status: 200, response: "ConversationList", errors: []int{400}},
	{method: "GET", path: "/api/v1/conversations/{id}", tag: "chat", summary: "A conversation you are a member of", auth: signedIn, status: 200, response: "Conversation", errors: []int{404}},
	{method: "PATCH", path: "/api/v1/conversations/{id}", tag: "chat", summary: "Rename a group (owner, admins)", auth: signedIn, body: "Title", status: 200, response: "Conversation", errors: []int{400, 404, 409}},
	{method: "POST", path: "/api/v1/conversations/{id}/members", tag: "chat", summary: "Invite people to a group (any member; contacts only by default)", auth: signedIn, body: "AccountIDs", status: 200, response: "Conversation", errors: []int{400, 404, 409}},
	{method: "DELETE", path: "/api/v1/conversations/{id}/members/{account_id}", tag: "chat", summary: "Remove a member (owner; admins for plain members) or leave (yourself)", auth: signedIn, status: 204, errors: []int{404, 409}},
	{method: "PUT", path: "/api/v1/conversations/{id}/members/{account_id}/role", tag: "chat", summary: "Make a member admin or plain member (owner)", auth: signedIn, body: "Role", status: 200, response: "Conversation", errors: []int{400, 404, 409}},
	{method: "POST", path: "/api/v1/conversations/{id}/messages", tag: "chat", summary: "Send a message; the same client_id again returns the stored message with 200", auth: signedIn, body: "MessageNew", status: 201, response: "Message", errors: []int{400, 403, 404, 410, 429, 503}},
	{method: "GET", path: "/api/v1/conversations/{id}/messages", tag: "chat", summary: "History ascending by seq: ?after_seq=N or ?before_seq=N (the page before N), &limit=M", auth: signedIn, status: 200, response: "MessageList", errors: []int{400, 404}},
	{method: "POST", path: "/api/v1/conversations/{id}/messages/{message_id}/recall", tag: "chat", summary: "Recall your message within the recall window (default 2 minutes)", auth: signedIn, status: 200, response: "Message", errors: []int{404}},
	{method: "POST", path: "/api/v1/conversations/{id}/read", tag: "chat", summary: "Move your read position forward", auth: signedIn, body: "ReadPosition", status: 204, errors: []int{400, 404}},
	{method: "PUT", path: "/api/v1/conversations/{id}/mute", tag: "chat", summary: "Mute the conversation for oneself (no push for its plain messages; a mention still pushes), optionally until a time, or unmute it", auth: signedIn, body: "MuteSet", status: 200, response: "Mute", errors: []int{400, 404}},
	{method: "GET", path: "/api/v1/push/vapid-key", tag: "push", summary: "The server's VAPID public key, to subscribe a browser to Web Push", auth: signedIn, status: 200, response: "VAPIDKey", errors: []int{404}},
	{method: "POST", path: "/api/v1/me/push-subscriptions", tag: "push", summary: "Subscribe this browser to Web Push, bound to this session (signing out deletes it); 201 when new, 200 when the endpoint was already subscribed (it moves to the caller); at most 10 per account, the oldest replaced", auth: signedIn, body: "PushSubscriptionNew", status: 201, response: "PushSubscription", errors: []int{400, 404, 409}},
	{method: "GET", path: "/api/v1/me/push-subscriptions", tag: "push", summary: "One's push subscriptions, newest first", auth: signedIn, status: 200, response: "PushSubscriptionList", errors: []int{404}},
	{method: "DELETE", path: "/api/v1/me/push-subscriptions/{id}", tag: "push", summary: "Delete one of one's push subscriptions", auth: signedIn, status: 204, errors: []int{404}},
	{method: "POST", path: "/api/v1/conversations/{id}/typing", tag: "chat", summary: "Tell the other members you are typing (not stored)", auth: signedIn, status: 204, errors: []int{404}},
	{method: "GET", path: "/api/v1/messages/search", tag: "chat", summary: "Messages of your conversations matching every term of ?q= (at most 200 characters, 16 terms), Chinese and Japanese without spaces too (天气 finds 今天天气很好), newest first, as history shows them: only conversations you are a member of, from when you joined, never recalled messages, removed ones only to their sender (?conversation_id= to search one, 404 if you are not a member; ?before=ID&limit=N, default 20, max 50)", auth: signedIn, status: 200, response: "MessageSearchPage", errors: []int{400, 404}},
	{method: "POST", path: "/api/v1/media", tag: "media", summary: "Upload a file (multipart field file); its type is sniffed from the content; images are re-encoded without metadata", auth: signedIn, body: "Upload", status: 201, response: "Media", errors: []int{400, 413, 415, 429}},
	{method: "GET", path: "/api/v1/media/{id}", tag: "media", summary: "The bytes, to the uploader (until they delete it), members of a conversation carrying it, anyone signed in for a published channel post's media, and whoever may see a microblog post carrying it (others 404); Range supported", auth: signedIn, status: 200, response: "bytes", errors: []int{404}},
	{method: "GET", path: "/api/v1/media/{id}/thumbnail", tag: "media", summary: "The thumbnail of an image or the poster of a video", auth: signedIn, status: 200, response: "bytes", errors: []int{404}},
	{method: "DELETE", path: "/api/v1/media/{id}", tag: "media", summary: "Delete your upload: frees its quota at once and it can no longer be attached or fetched by you as its uploader; a sent message carrying it keeps it readable to that conversation's members until the message is recalled, then the bytes are removed; media no message carries (unsent, or only in posts) is removed at once", auth: signedIn, status: 204, errors: []int{404}},
	{method: "GET", path: "/api/v1/me/media", tag: "media", summary: "Your own media, newest first, without what you deleted (?before= the previous page's next_cursor, &limit=1-100, default 50); in_messages marks items a sent message carries", auth: signedIn, status: 200, response: "MediaItemList", errors: []int{400}},
	{method: "GET", path: "/api/v1/me/media-usage", tag: "media", summary: "Bytes stored against your quota, and the upload limits", auth: signedIn, status: 200, response: "object"},
	{method: "POST", path: "/api/v1/uploads", tag: "media", summary: "Start a resumable upload (tus 1.0: Tus-Resumable: 1.0.0, Upload-Length, Upload-Metadata filetype); Location names it", auth: signedIn, status: 201, errors: []int{400, 413, 429}},
	{method: "HEAD", path: "/api/v1/uploads/{id}", tag: "media", summary: "How much of a resumable upload has arrived (Upload-Offset)", auth: signedIn, status: 200, errors: []int{404}},
	{method: "PATCH", path: "/api/v1/uploads/{id}", tag: "media", summary: "Send the next part (Content-Type: application/offset+octet-stream, Upload-Offset); the last part answers 200 with the media item and Plaza-Media-Id", auth: signedIn, status: 204, response: "Media", errors: []int{400, 404, 409, 413, 415}},
	{method: "DELETE", path: "/api/v1/uploads/{id}", tag: "media", summary: "Abandon a resumable upload", auth: signedIn, status: 204, errors: []int{404}},
	{method: "GET", path: "/api/v1/sync", tag: "chat", summary: "Events after ?since=CURSOR (&limit, default 100, max 1000); without since, the current cursor and no events", auth: signedIn, status: 200, response: "SyncPage", errors: []int{400, 410}},
	{method: "GET", path: "/api/v1/stream", tag: "chat", summary: "WebSocket event stream (?since=CURSOR; browsers may pass ?access_token=); x-plaza-frames lists every frame type. Close codes: 1012 server restarting (reconnect after 0–1 s with since), 4001 session ended, 4003 account suspended or closed, 4005 new terms to accept, 4008 too slow, 4009 replaced (too many streams)", auth: signedIn, status: 101, errors: []int{400, 410, 503}},

	{method: "POST", path: "/api/v1/channel-applications", tag: "channels", summary: "Apply for a public account (needs the level the policy sets for channel.apply: identity by default)", auth: signedIn, body: "ChannelApplicationNew", status: 201, response: "ChannelApplication", errors: []int{400, 409}},
	{method: "GET", path: "/api/v1/channel-applications", tag: "channels", summary: "Your applications, with outcomes and reasons", auth: signedIn, status: 200, response: "ChannelApplicationList"},
	{method: "GET", path: "/api/v1/channels", tag: "channels", summary: "Directory and search (?q=&cursor=&limit=), most followed first", auth: signedIn, status: 200, response: "ChannelList", errors: []int{400}},
	{method: "GET", path: "/api/v1/channels/{id}", tag: "channels", summary: "A channel: verified mark, approval date, followers, status and reason", auth: signedIn, status: 200, response: "Channel", errors: []int{404}},
	{method: "POST", path: "/api/v1/channels/{id}/follow", tag: "channels", summary: "Follow", auth: signedIn, status: 204, errors: []int{404, 409}},
	{method: "DELETE", path: "/api/v1/channels/{id}/follow", tag: "channels", summary: "Unfollow", auth: signedIn, status: 204, errors: []int{404}},
	{method: "POST", path: "/api/v1/channels/{id}/read", tag: "channels", summary: "Mark a followed channel read (its unread count drops to 0)", auth: signedIn, status: 204, errors: []int{404}},
	{method: "POST", path: "/api/v1/channels/{id}/editors", tag: "channels", summary: "Add an editor (owner)", auth: signedIn, body: "AccountRef", status: 200, response: "Channel", errors: []int{400, 404}},
	{method: "DELETE", path: "/api/v1/channels/{id}/editors/{account_id}", tag: "channels", summary: "Remove an editor (owner)", auth: signedIn, status: 204, errors: []int{404}},
	{method: "POST", path: "/api/v1/channels/{id}/posts", tag: "channels", summary: "Post (owner, editors): published, or pending_review in a review category; category_not_authorized names the policy; quota_exceeded says when", auth: signedIn, body: "PostNew", status: 201, response: "Post", errors: []int{400, 404, 429}},
	{method: "GET", path: "/api/v1/channels/{id}/posts", tag: "channels", summary: "Published posts, newest first (owner and editors: ?status=pending_review|rejected)", auth: signedIn, status: 200, response: "PostList", errors: []int{400, 404}},
	{method: "GET", path: "/api/v1/feeds/channels", tag: "channels", summary: "Posts of the channels you follow, newest first, with unread counts per channel", auth: signedIn, status: 200, response: "Feed", errors: []int{400}},
	{method: "GET", path: "/api/v1/categories", tag: "channels", summary: "Post categories and their policies", auth: signedIn, status: 200, response: "CategoryList"},
	{method: "GET", path: "/api/v1/admin/channel-applications", tag: "admin", summary: "Applications (?status=pending|approved|rejected)", auth: signedIn, roles: []account.Role{account.Reviewer}, status: 200, response: "ChannelApplicationList", errors: []int{400}},
	{method: "POST", path: "/api/v1/admin/channel-applications/{id}/decision", tag: "admin", summary: "Approve (creates the channel) or reject with a reason", auth: signedIn, roles: []account.Role{account.Reviewer}, body: "Decision", status: 200, response: "ChannelApplication", errors: []int{400, 404, 409}},
	{method: "GET", path: "/api/v1/admin/post-reviews", tag: "admin", summary: "Posts held for review (?status=pending)", auth: signedIn, roles: []account.Role{account.Reviewer}, status: 200, response: "PostList", errors: []int{400}},
	{method: "POST", path: "/api/v1/admin/post-reviews/{id}/decision", tag: "admin", summary: "Publish or reject a held post, with a reason", auth: signedIn, roles: []account.Role{account.Reviewer}, body: "Decision", status: 200, response: "Post", errors: []int{400, 404, 409}},
	{method: "PUT", path: "/api/v1/admin/categories/{name}", tag: "admin", summary: "Create or change a category's policy", auth: signedIn, roles: []account.Role{account.Admin}, body: "CategoryPut", status: 200, response: "Category", errors: []int{400}},
	{method: "POST", path: "/api/v1/admin/channels/{id}/credentials", tag: "admin", summary: "Grant a channel a credential for a category, until expires_at", auth: signedIn, roles: []account.Role{account.Admin}, body: "CredentialNew", status: 201, response: "Credential", errors: []int{400, 404}},
	{method: "GET", path: "/api/v1/admin/channels/{id}/credentials", tag: "admin", summary: "A channel's credentials", auth: signedIn, roles: []account.Role{account.Admin}, status: 200, response: "CredentialList"},
	{method: "DELETE", path: "/api/v1/admin/channels/{id}/credentials/{credential_id}", tag: "admin", summary: "Revoke a credential (?reason=)", auth: signedIn, roles: []account.Role{account.Admin}, status: 204, errors: []int{404}},
	{method: "PATCH", path: "/api/v1/admin/channels/{id}", tag: "admin", summary: "Change a channel's posting quotas", auth: signedIn, roles: []account.Role{account.Admin}, body: "ChannelLimits", status: 200, response: "Channel", errors: []int{400, 404}},
	{method: "POST", path: "/api/v1/admin/channels/{id}/status", tag: "admin", summary: "Suspend, close or reinstate a channel, with a reason followers see", auth: signedIn, roles: []account.Role{account.Admin}, body: "ChannelStatus", status: 200, response: "Channel", errors: []int{400, 404, 409}},
	{method: "GET", path: "/api/v1/accounts/lookup", tag: "people", summary: "Find someone by exact ?handle= (60 an hour) or by verified ?phone= in international form (10 an hour), exactly one of them: the public profile if the person allows that lookup and has not blocked you; otherwise the same 404 whether nobody matches or the person is hidden; the phone is never returned", auth: signedIn, status: 200, response: "Profile", errors: []int{400, 404, 429}},
	{method: "GET", path: "/api/v1/accounts/{id}/avatar", tag: "people", summary: "An account's profile photo (?size=64 for the small one; default 256); cached privately for a year, since avatar_url carries its version; 404 when there is none or the person blocked you", auth: signedIn, status: 200, response: "bytes", errors: []int{400, 404}},
	{method: "GET", path: "/api/v1/invites/{token}", tag: "people", summary: "Whose invite link this is: their profile and when the link expires; unknown, expired or revoked links, an owner who is not active or who blocked you, all 404; your own link 409 (details.reason own_invite)", auth: signedIn, status: 200, response: "InviteView", errors: []int{404, 409}},
	{method: "GET", path: "/api/v1/accounts/{id}", tag: "accounts", summary: "Someone's public profile (never a legal name or phone), with follower_count, following_count, post_count, whether you follow them and whether it is memorialised; a deleted account answers 410 gone", auth: signedIn, status: 200, response: "Profile", errors: []int{404, 410}},
	{method: "POST", path: "/api/v1/accounts/{id}/legacy-exports", tag: "your data", summary: "Export a memorialised account's data for its legacy contact, if the person allowed it; the caller follows and downloads it as their own export (GET /api/v1/me/exports/{id}); anyone else 404", auth: signedIn, status: 202, response: "Export", errors: []int{404, 409, 429}},

	{method: "POST", path: "/api/v1/posts", tag: "microblog", summary: "Post: text of at most 2,000 characters, up to 9 of your own images or one video, a visibility, reply_to or repost_of (404 when you cannot see it), a category (default general) under the category policies; needs a verified phone", auth: signedIn, body: "MicroPostNew", status: 201, response: "MicroPost", errors: []int{400, 404, 429, 503}},
	{method: "GET", path: "/api/v1/posts/{id}", tag: "microblog", summary: "A post: public ones to anyone (anonymous too), followers ones to the author's followers, contacts ones to the author's contacts; anyone else, and anyone across a block, gets 404", auth: optional, status: 200, response: "MicroPost", errors: []int{404}},
	{method: "DELETE", path: "/api/v1/posts/{id}", tag: "microblog", summary: "Delete your post: it leaves timelines, replies, hashtag pages, trending and search, and its counts are taken back", auth: signedIn, status: 204, errors: []int{404}},
	{method: "GET", path: "/api/v1/posts/{id}/replies", tag: "microblog", summary: "Replies you may see, oldest first (?cursor=&limit=)", auth: optional, status: 200, response: "MicroPostList", errors: []int{400, 404}},
	{method: "POST", path: "/api/v1/posts/{id}/like", tag: "microblog", summary: "Like a post (idempotent)", auth: signedIn, status: 204, errors: []int{404, 429}},
	{method: "DELETE", path: "/api/v1/posts/{id}/like", tag: "microblog", summary: "Take your like back (idempotent)", auth: signedIn, status: 204, errors: []int{404, 429}},
	{method: "POST", path: "/api/v1/accounts/{id}/follow", tag: "microblog", summary: "Follow an account (idempotent): yourself 400, an unknown or closed account 404, across a block 403 blocked", auth: signedIn, status: 204, errors: []int{400, 404, 429}},
	{method: "DELETE", path: "/api/v1/accounts/{id}/follow", tag: "microblog", summary: "Unfollow (idempotent)", auth: signedIn, status: 204, errors: []int{400, 404, 429}},
	{method: "GET", path: "/api/v1/accounts/{id}/followers", tag: "microblog", summary: "Who follows the account, newest first (?cursor=&limit=); 404 across a block, and accounts on the other side of a block from you are left out", auth: signedIn, status: 200, response: "FollowList", errors: []int{400, 404}},
	{method: "GET", path: "/api/v1/accounts/{id}/following", tag: "microblog", summary: "Whom the account follows, newest first (?cursor=&limit=); 404 across a block, and accounts on the other side of a block from you are left out", auth: signedIn, status: 200, response: "FollowList", errors: []int{400, 404}},
	{method: "GET", path: "/api/v1/accounts/{id}/posts", tag: "microblog", summary: "The account's posts you may see, newest first (?cursor=&limit=); its author also sees held and rejected ones", auth: optional, status: 200, response: "MicroPostList", errors: []int{400, 404}},
	{method: "GET", path: "/api/v1/timeline", tag: "microblog", summary: "Your home timeline, newest first (?cursor=&limit=): your posts, those of the accounts you follow and your contacts' contacts posts, as far as you may see them", auth: signedIn, status: 200, response: "MicroPostList", errors: []int{400}},
	{method: "GET", path: "/api/v1/hashtags/{tag}/posts", tag: "microblog", summary: "Published public posts with the hashtag (folded: #Go and #ｇｏ are #go), newest first (?cursor=&limit=)", auth: optional, status: 200, response: "MicroPostList", errors: []int{400}},
	{method: "GET", path: "/api/v1/trending", tag: "microblog", summary: "Hashtags of the last ?window=1h|24h (default 24h), ranked by distinct accounts", auth: optional, status: 200, response: "TrendList", errors: []int{400}},
	{method: "GET", path: "/api/v1/search/posts", tag: "microblog", summary: "Published public posts matching every term of ?q= (at most 200 characters, 16 terms), Chinese and Japanese without spaces too (天气 finds 今天天气很好), newest first (?cursor=&limit=)", auth: optional, status: 200, response: "MicroPostList", errors: []int{400}},
	{method: "GET", path: "/api/v1/notifications", tag: "microblog", summary: "Your notifications (mention, reply, like, repost, follow), newest first (?cursor=&limit=&unread=true), with unread_count", auth: signedIn, status: 200, response: "NotificationList", errors: []int{400}},
	{method: "POST", path: "/api/v1/notifications/read", tag: "microblog", summary: "Mark your notifications up to an ID read", auth: signedIn, body: "NotificationsRead", status: 204, errors: []int{400}},
	{method: "GET", path: "/api/v1/admin/microblog-reviews", tag: "admin", summary: "Microblog posts held for review (?status=pending|rejected&cursor=&limit=)", auth: signedIn, roles: []account.Role{account.Reviewer}, status: 200, response: "MicroPostList", errors: []int{400}},
	{method: "POST", path: "/api/v1/admin/microblog-reviews/{id}/decision", tag: "admin", summary: "Publish or reject a held microblog post, with a reason", auth: signedIn, roles: []account.Role{account.Reviewer}, body: "Decision", status: 200, response: "MicroPost", errors: []int{400, 404, 409}},
	{method: "POST", path: "/api/v1/admin/accounts/{id}/credentials", tag: "admin", summary: "Grant an account a credential for a category, until expires_at", auth: signedIn, roles: []account.Role{account.Admin}, body: "CredentialNew", status: 201, response: "AccountCredential", errors: []int{400, 404}},
	{method: "GET", path: "/api/v1/admin/accounts/{id}/credentials", tag: "admin", summary: "An account's credentials", auth: signedIn, roles: []account.Role{account.Admin}, status: 200, response: "AccountCredentialList"},
	{method: "DELETE", path: "/api/v1/admin/accounts/{id}/credentials/{credential_id}", tag: "admin", summary: "Revoke an account's credential (?reason=)", auth: signedIn, roles: []account.Role{account.Admin}, status: 204, errors: []int{404}},

	{method: "GET", path: "/api/v1/rules", tag: "moderation", summary: "The operator's published, numbered rules; every decision cites one", status: 200, response: "RuleList"},
	{method: "POST", path: "/api/v1/reports", tag: "moderation", summary: "Report a post, message, account, channel or channel post you can see (anything else is 404); a message report copies the message, and with context: true up to 10 before it, as evidence; a second report of an open item is 409", auth: signedIn, body: "ReportNew", status: 201, response: "Report", errors: []int{400, 404, 409, 429}},
	{method: "GET", path: "/api/v1/me/reports", tag: "moderation", summary: "One's reports, newest first, with their outcomes (?cursor=&limit=); allowed in any standing", auth: anyStanding, status: 200, response: "ReportList", errors: []int{400}},
	{method: "GET", path: "/api/v1/me/decisions", tag: "moderation", summary: "Statements of reasons for the decisions about one's account or content, newest first; allowed in any standing", auth: anyStanding, status: 200, response: "StatementList", errors: []int{400}},
	{method: "GET", path: "/api/v1/me/decisions/{id}", tag: "moderation", summary: "One statement of reasons addressed to you", auth: anyStanding, status: 200, response: "Statement", errors: []int{404}},
	{method: "POST", path: "/api/v1/me/decisions/{id}/appeal", tag: "moderation", summary: "Appeal a decision: once, within the appeal window (180 days); decided by another moderator; allowed while suspended or closed", auth: anyStanding, body: "AppealNew", status: 201, response: "AppealState", errors: []int{400, 403, 404, 409}},
	{method: "GET", path: "/api/v1/transparency", tag: "moderation", summary: "The public transparency report for a period (?from=YYYY-MM-DD&to=YYYY-MM-DD, both included, UTC; default the last 30 days; &format=csv), counted from the audit log; 30 a minute per address", status: 200, response: "Transparency", errors: []int{400, 429}},
	{method: "GET", path: "/api/v1/admin/reports", tag: "moderation", summary: "The report queue, oldest first (?status=open|decided&rule_id=&target_type=&cursor=&limit=): each item is one target with its snapshot, every report and the account's earlier decisions", auth: signedIn, roles: []account.Role{account.Moderator, account.Admin}, status: 200, response: "QueueItemList", errors: []int{400}},
	{method: "POST", path: "/api/v1/admin/reports/{id}/decision", tag: "moderation", summary: "Decide a queue item (reason required except for dismiss; label needs label, suspend duration_days); the loser of two concurrent decisions gets 409", auth: signedIn, roles: []account.Role{account.Moderator, account.Admin}, body: "ReportDecision", status: 200, response: "ModeratorDecision", errors: []int{400, 403, 404, 409}},
	{method: "POST", path: "/api/v1/admin/decisions", tag: "moderation", summary: "Take a decision without a report: own initiative, or with authority_order_id on an authority's order (ground law)", auth: signedIn, roles: []account.Role{account.Moderator, account.Admin}, body: "DecisionNew", status: 201, response: "ModeratorDecision", errors: []int{400, 403, 404, 409}},
	{method: "GET", path: "/api/v1/admin/appeals", tag: "moderation", summary: "Appeals, oldest first (?status=open|decided&cursor=&limit=), each with its decision", auth: signedIn, roles: []account.Role{account.Moderator, account.Admin}, status: 200, response: "AppealList", errors: []int{400}},
	{method: "POST", path: "/api/v1/admin/appeals/{id}/decision", tag: "moderation", summary: "Uphold or reverse (uphold: false) a decision on appeal, with a reason; not by the moderator who decided (403, details.reason same_moderator); reversal undoes the action", auth: signedIn, roles: []account.Role{account.Moderator, account.Admin}, body: "AppealDecision", status: 200, response: "Appeal", errors: []int{400, 403, 404, 409}},
	{method: "POST", path: "/api/v1/admin/authority-orders", tag: "moderation", summary: "Record a request from an authority and its outcome; counted in the transparency report", auth: signedIn, roles: []account.Role{account.Admin}, body: "OrderNew", status: 201, response: "Order", errors: []int{400}},
	{method: "GET", path: "/api/v1/admin/authority-orders", tag: "moderation", summary: "Recorded authority orders, newest first (?cursor=&limit=)", auth: signedIn, roles: []account.Role{account.Admin, account.Moderator}, status: 200, response: "OrderList", errors: []int{400}},
	{method: "PUT", path: "/api/v1/admin/rules/{id}", tag: "moderation", summary: "Publish or change rule number id (1–999)", auth: signedIn, roles: []account.Role{account.Admin}, body: "RuleDraft", status: 200, response: "Rule", errors: []int{400}},

	{method: "GET", path: "/api/v1/admin/overview", tag: "admin", summary: "How much waits in each queue the caller's roles work (counts stop at count_limit)", auth: signedIn, roles: []account.Role{account.Admin, account.Moderator, account.Reviewer, account.Compliance}, status: 200, response: "Overview"},
	{method: "POST", path: "/api/v1/admin/terms", tag: "admin", summary: "Publish a new terms version", auth: signedIn, roles: []account.Role{account.Admin}, body: "TermsDraft", status: 201, response: "Terms", errors: []int{400}},
	{method: "GET", path: "/api/v1/admin/accounts", tag: "admin", summary: "Find an account by handle (?handle=)", auth: signedIn, roles: []account.Role{account.Admin, account.Moderator}, status: 200, response: "MeList", errors: []int{400}},
	{method: "GET", path: "/api/v1/admin/accounts/{id}", tag: "admin", summary: "An account with its standing and roles", auth: signedIn, roles: []account.Role{account.Admin, account.Moderator}, status: 200, response: "Me", errors: []int{404}},
	{method: "PUT", path: "/api/v1/admin/accounts/{id}/roles/{role}", tag: "admin", summary: "Grant a role (admin, moderator, reviewer, compliance)", auth: signedIn, roles: []account.Role{account.Admin}, status: 204, errors: []int{400, 404}},
	{method: "DELETE", path: "/api/v1/admin/accounts/{id}/roles/{role}", tag: "admin", summary: "Revoke a role", auth: signedIn, roles: []account.Role{account.Admin}, status: 204, errors: []int{400, 404}},
	{method: "POST", path: "/api/v1/admin/accounts/{id}/suspension", tag: "admin", summary: "Suspend an account with a reason, optionally until a time", auth: signedIn, roles: []account.Role{account.Admin, account.Moderator}, body: "Suspension", status: 200, response: "Me", errors: []int{400, 404, 409}},
	{method: "POST", path: "/api/v1/admin/accounts/{id}/reinstatement", tag: "admin", summary: "Lift a suspension, with a reason", auth: signedIn, roles: []account.Role{account.Admin, account.Moderator}, body: "Reason", status: 200, response: "Me", errors: []int{400, 404, 409}},
	{method: "POST", path: "/api/v1/admin/accounts/{id}/closure", tag: "admin", summary: "Close an account for good, with a reason", auth: signedIn, roles: []account.Role{account.Admin}, body: "Reason", status: 200, response: "Me", errors: []int{400, 404, 409}},
	{method: "POST", path: "/api/v1/admin/accounts/{id}/memorialisation", tag: "admin", summary: "Memorialise the account of a person who has died, with a reason (audited): it becomes read-only, its sessions end, nobody can sign in to it or message it, a scheduled deletion is cancelled; its profile shows memorialised: true", auth: signedIn, roles: []account.Role{account.Admin}, body: "Reason", status: 200, response: "Me", errors: []int{400, 403, 404, 409, 410}},
	{method: "GET", path: "/api/v1/admin/identity-reviews", tag: "admin", summary: "Identity submissions with legal names (?status=pending|verified|rejected&cursor=&limit=); every item shown is audit-logged", auth: signedIn, roles: []account.Role{account.Compliance}, status: 200, response: "ReviewList", errors: []int{400}},
	{method: "POST", path: "/api/v1/admin/identity-reviews/{id}/decision", tag: "admin", summary: "Approve or reject an identity; a rejection needs a reason", auth: signedIn, roles: []account.Role{account.Compliance}, body: "Decision", status: 200, response: "Identity", errors: []int{400, 404, 409}},
	{method: "GET", path: "/api/v1/admin/audit-log", tag: "admin", summary: "The audit log, newest first (?cursor=&limit=)", auth: signedIn, roles: []account.Role{account.Admin}, status: 200, response: "AuditList", errors: []int{400}},
	{method: "GET", path: "/api/v1/admin/audit-log/verification", tag: "admin", summary: "Check the audit log's hash chain", auth: signedIn, roles: []account.Role{account.Admin}, status: 200, response: "AuditReport"},
}

func obj(required []string, props map[string]any) map[string]any {
	o := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// decisionFields are the fields of every decision's body.
var decisionFields = map[string]any{
	"action":        map[string]any{"type": "string", "enum": []string{"dismiss", "label", "limit", "remove", "suspend", "close"}, "description": "dismiss only on a report; close by admins only."},
	"rule_id":       integer,
	"reason":        map[string]any{"type": "string", "maxLength": 5000, "description": "Required except for dismiss: the facts, shown to the person."},
	"label":         map[string]any{"type": "string", "maxLength": 200, "description": "For label: the note shown with the content."},
	"duration_days": map[string]any{"type": "integer", "minimum": 1, "maximum": 3650, "description": "For suspend."},
}

// withProps returns a copy of props with more added.
func withProps(props, more map[string]any) map[string]any {
	out := make(map[string]any, len(props)+len(more))
	for k, v := range props {
		out[k] = v
	}
	for k, v := range more {
		out[k] = v
	}
	return out
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func listOf(name string) map[string]any {
	return obj([]string{"items", "next_cursor"}, map[string]any{
		"items":       map[string]any{"type": "array", "items": ref(name)},
		"next_cursor": map[string]any{"type": "string", "description": "Pass as ?cursor= for the next page; empty when there is none."},
	})
}

var (
	str      = map[string]any{"type": "string"}
	integer  = map[string]any{"type": "integer"}
	boolean  = map[string]any{"type": "boolean"}
	dateTime = map[string]any{"type": "string", "format": "date-time"}
	// The marks a moderation decision puts on content (see governance.md).
	modLabel    = map[string]any{"type": "string", "description": "A moderators' note shown with the content to everyone."}
	modLimited  = map[string]any{"type": "boolean", "description": "To the author only: a decision keeps it out of search, trending and hashtag pages and from non-followers."}
	modRemoved  = map[string]any{"type": "boolean", "description": "A decision removed it: the author still sees it; others see a removed message without its content, and nothing else."}
	modDecision = map[string]any{"type": "string", "pattern": "^[0-9]+$", "description": "The decision behind label, limited or removed."}
	counts      = map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "integer"}}
	idSchema    = map[string]any{"type": "string", "pattern": "^[0-9]+$", "description": "A 64-bit ID as a decimal string."}
	// avatarURLSchema is a profile photo's versioned URL.
	avatarURLSchema = map[string]any{"type": []string{"string", "null"}, "description": "/api/v1/accounts/{id}/avatar?v=N: the profile photo, cacheable since N changes with it; null when there is none."}
)

var schemas = map[string]any{
	"Error": obj([]string{"error"}, map[string]any{"error": obj([]string{"code", "message"}, map[string]any{
		"code":    map[string]any{"type": "string", "description": "Stable snake_case code, e.g. invalid_request, terms_acceptance_required."},
		"message": str,
		"details": map[string]any{"type": "object"},
	})}),
	"Rule":      obj([]string{"id", "title", "description"}, map[string]any{"id": integer, "title": str, "description": str}),
	"RuleList":  listOf("Rule"),
	"RuleDraft": obj([]string{"title", "description"}, map[string]any{"title": map[string]any{"type": "string", "minLength": 1, "maxLength": 120}, "description": map[string]any{"type": "string", "minLength": 1, "maxLength": 2000}}),
	"ReportNew": obj([]string{"target_type", "target_id", "rule_id"}, map[string]any{
		"target_type": map[string]any{"type": "string", "enum": []string{"post", "message", "account", "channel", "channel_post"}},
		"target_id":   idSchema, "rule_id": integer,
		"comment": map[string]any{"type": "string", "maxLength": 2000},
		"context": map[string]any{"type": "boolean", "description": "For a message: also attach up to 10 messages before it as evidence."},
	}),
	"Outcome": obj([]string{"action", "decided_at", "reversed"}, map[string]any{"action": str, "decided_at": dateTime, "reversed": boolean}),
	"Report": obj([]string{"id", "target_type", "target_id", "rule_id", "status"}, map[string]any{
		"id": idSchema, "target_type": str, "target_id": idSchema, "rule_id": integer, "rule_title": str, "comment": str, "created_at": dateTime,
		"status": map[string]any{"type": "string", "enum": []string{"open", "decided"}}, "outcome": map[string]any{"oneOf": []any{ref("Outcome"), map[string]any{"type": "null"}}},
		"reporter_id": idSchema, "evidence": map[string]any{"type": "array", "items": ref("Snapshot"), "description": "Moderators only."},
	}),
	"ReportList": listOf("Report"),
	"Snapshot": obj([]string{"type", "id"}, map[string]any{
		"type": str, "id": idSchema, "owner_id": idSchema, "conversation_id": idSchema, "channel_id": idSchema, "seq": integer, "kind": str,
		"title": str, "text": str, "media_ids": map[string]any{"type": "array", "items": idSchema}, "handle": str, "display_name": str,
		"name": str, "description": str, "status": str, "created_at": dateTime,
	}),
	"QueueItem": obj([]string{"id", "target_type", "target_id", "snapshot", "status", "report_count", "reports", "history"}, map[string]any{
		"id": idSchema, "target_type": str, "target_id": idSchema, "owner_id": idSchema, "snapshot": ref("Snapshot"),
		"status": map[string]any{"type": "string", "enum": []string{"open", "decided"}}, "report_count": integer, "created_at": dateTime,
		"decided_at": dateTime, "decision_id": idSchema, "reports": map[string]any{"type": "array", "items": ref("Report")},
		"history": map[string]any{"type": "array", "items": obj(nil, map[string]any{"id": idSchema, "action": str, "rule_id": integer, "rule_title": str, "target_type": str, "status": str, "created_at": dateTime})},
	}),
	"QueueItemList":  listOf("QueueItem"),
	"ReportDecision": obj([]string{"action", "rule_id"}, decisionFields),
	"DecisionNew": obj([]string{"target_type", "target_id", "action", "rule_id", "reason"}, withProps(decisionFields, map[string]any{
		"target_type":        map[string]any{"type": "string", "enum": []string{"post", "account", "channel", "channel_post"}, "description": "Not message: a message is decided only from a member's report."},
		"target_id":          idSchema,
		"authority_order_id": map[string]any{"type": "string", "pattern": "^[0-9]+$", "description": "A recorded, not rejected order about this very target."},
	})),
	"AppealState": obj([]string{"id", "status"}, map[string]any{"id": idSchema, "status": map[string]any{"type": "string", "enum": []string{"open", "decided"}},
		"outcome": map[string]any{"type": "string", "enum": []string{"", "upheld", "reversed"}}, "reason": str, "created_at": dateTime, "decided_at": dateTime}),
	"Statement": obj([]string{"id", "action", "rule", "ground", "legal_basis", "reason", "content", "source", "automated", "created_at", "ends_at", "appeal_deadline", "appeal"}, map[string]any{
		"id": idSchema, "target_type": str, "target_id": idSchema,
		"action": map[string]any{"type": "string", "enum": []string{"label", "limit", "remove", "suspend", "close"}},
		"label":  str, "duration_days": integer,
		"rule":        obj([]string{"id", "title"}, map[string]any{"id": integer, "title": str}),
		"ground":      map[string]any{"type": "string", "enum": []string{"terms", "law"}},
		"legal_basis": str, "reason": str, "content": ref("Snapshot"),
		"source":             map[string]any{"type": "string", "enum": []string{"report", "own_initiative", "authority_order"}},
		"authority_order_id": idSchema,
		"automated":          map[string]any{"type": "boolean", "const": false},
		"created_at":         dateTime, "ends_at": map[string]any{"type": []string{"string", "null"}, "format": "date-time"},
		"appeal_deadline": dateTime, "how_to_appeal": str,
		"status": map[string]any{"type": "string", "enum": []string{"in_force", "reversed"}},
		"appeal": map[string]any{"oneOf": []any{ref("AppealState"), map[string]any{"type": "null"}}},
	}),
	"StatementList":     listOf("Statement"),
	"ModeratorDecision": map[string]any{"allOf": []any{ref("Statement"), obj([]string{"decision_id", "moderator_id"}, map[string]any{"decision_id": idSchema, "moderator_id": idSchema, "account_id": idSchema})}},
	"AppealNew":         obj([]string{"text"}, map[string]any{"text": map[string]any{"type": "string", "minLength": 1, "maxLength": 5000}}),
	"AppealDecision":    obj([]string{"uphold", "reason"}, map[string]any{"uphold": boolean, "reason": map[string]any{"type": "string", "minLength": 1, "maxLength": 5000}}),
	"Appeal": obj([]string{"id", "account_id", "text", "status", "decision"}, map[string]any{
		"id": idSchema, "account_id": idSchema, "text": str, "status": str, "outcome": str, "reason": str, "created_at": dateTime,
		"decided_at": dateTime, "decided_by": idSchema, "decision": ref("ModeratorDecision"),
	}),
	"AppealList": listOf("Appeal"),
	"OrderNew": obj([]string{"authority", "legal_basis", "received_at", "scope", "outcome"}, map[string]any{
		"authority": str, "legal_basis": str, "received_at": dateTime, "scope": str,
		"target_type": str, "target_id": idSchema,
		"outcome": map[string]any{"type": "string", "enum": []string{"complied", "partially_complied", "rejected"}}, "note": str,
	}),
	"Order": obj([]string{"id", "authority", "legal_basis", "received_at", "scope", "outcome"}, map[string]any{
		"id": idSchema, "authority": str, "legal_basis": str, "received_at": dateTime, "scope": str, "target_type": str,
		"target_id": map[string]any{"type": []string{"string", "null"}, "pattern": "^[0-9]+$"}, "outcome": str, "note": str, "recorded_by": idSchema, "created_at": dateTime,
	}),
	"OrderList": listOf("Order"),
	"Transparency": obj([]string{"from", "to", "reports", "decisions", "appeals", "authority_orders", "identity_reviews", "channel_applications"}, map[string]any{
		"from": map[string]any{"type": "string", "format": "date"}, "to": map[string]any{"type": "string", "format": "date"}, "generated_at": dateTime,
		"reports": obj([]string{"total", "by_rule", "by_target_type"}, map[string]any{"total": integer, "by_rule": counts, "by_target_type": counts}),
		"decisions": obj([]string{"total", "by_action", "by_rule", "median_hours_to_decision"}, map[string]any{"total": integer, "by_action": counts, "by_rule": counts,
			"by_source": counts, "automated": integer, "median_hours_to_decision": map[string]any{"type": []string{"number", "null"}}}),
		"appeals":              obj([]string{"total", "reversed"}, map[string]any{"total": integer, "upheld": integer, "reversed": integer}),
		"authority_orders":     obj([]string{"total", "by_authority", "by_outcome"}, map[string]any{"total": integer, "by_authority": counts, "by_outcome": counts}),
		"identity_reviews":     obj([]string{"approved", "rejected"}, map[string]any{"approved": integer, "rejected": integer}),
		"channel_applications": obj([]string{"approved", "rejected"}, map[string]any{"approved": integer, "rejected": integer}),
		"rules":                map[string]any{"type": "object", "additionalProperties": str},
	}),
	"Readiness": obj([]string{"status"}, map[string]any{"status": str, "reason": str}),
	"Health":    obj([]string{"status"}, map[string]any{"status": str, "version": str, "reason": str}),
	"Liveness":  obj([]string{"status"}, map[string]any{"status": str}),
	"Terms": obj([]string{"version", "title", "body", "published_at"}, map[string]any{
		"version": integer, "title": str, "body": str, "requires_reconsent": boolean, "published_at": dateTime,
	}),
	"TermsDraft": obj([]string{"title", "body"}, map[string]any{"title": str, "body": str, "requires_reconsent": boolean}),
	"Registration": obj([]string{"handle", "password", "display_name", "birth_date", "accepted_terms_version"}, map[string]any{
		"handle":                 map[string]any{"type": "string", "pattern": "^[a-zA-Z0-9_]{3,30}$", "description": "Stored in lower case; unique regardless of case."},
		"password":               map[string]any{"type": "string", "minLength": 8, "maxLength": 256},
		"display_name":           map[string]any{"type": "string", "minLength": 1, "maxLength": 64},
		"birth_date":             map[string]any{"type": "string", "format": "date"},
		"accepted_terms_version": integer,
		"language":               map[string]any{"type": "string", "enum": []string{"en", "zh-CN"}, "description": "The language of the text messages the server sends; default en."},
	}),
	"Setup": obj([]string{"token", "handle", "password", "display_name", "birth_date", "accepted_terms_version"}, map[string]any{
		"token":                  map[string]any{"type": "string", "description": "The token of the setup link the server logged at start."},
		"handle":                 map[string]any{"type": "string", "pattern": "^[a-zA-Z0-9_]{3,30}$"},
		"password":               map[string]any{"type": "string", "minLength": 8, "maxLength": 256},
		"display_name":           map[string]any{"type": "string", "minLength": 1, "maxLength": 64},
		"birth_date":             map[string]any{"type": "string", "format": "date"},
		"accepted_terms_version": integer,
		"language":               map[string]any{"type": "string", "enum": []string{"en", "zh-CN"}},
	}),
	"Login":    obj([]string{"handle", "password"}, map[string]any{"handle": str, "password": str}),
	"Password": obj([]string{"password"}, map[string]any{"password": str}),
	"Consent":  obj([]string{"version"}, map[string]any{"version": integer}),
	"MePatch":  obj(nil, map[string]any{"display_name": str, "language": map[string]any{"type": "string", "enum": []string{"en", "zh-CN"}}}),
	"Reason":   obj([]string{"reason"}, map[string]any{"reason": map[string]any{"type": "string", "minLength": 1, "maxLength": 1000}}),
	"PasswordChange": obj([]string{"current_password", "new_password"}, map[string]any{
		"current_password": str,
		"new_password":     map[string]any{"type": "string", "minLength": 8, "maxLength": 256},
	}),
	"Suspension": obj([]string{"reason"}, map[string]any{
		"reason": map[string]any{"type": "string", "minLength": 1, "maxLength": 1000},
		"until":  map[string]any{"type": "string", "format": "date-time", "description": "When the suspension ends by itself; absent: until lifted."},
	}),
	"Me": obj([]string{"id", "handle", "display_name", "roles", "verification", "status"}, map[string]any{
		"verification": ref("Verification"),
		"id":           idSchema, "handle": str, "display_name": str, "birth_date": str,
		"roles":              map[string]any{"type": "array", "items": map[string]any{"type": "string", "enum": []string{"admin", "moderator", "reviewer", "compliance"}}},
		"status":             map[string]any{"type": "string", "enum": []string{"active", "suspended", "closed", "deleted", "memorialised"}},
		"status_reason":      str,
		"status_until":       dateTime,
		"status_decision_id": idSchema,
		"terms": obj(nil, map[string]any{
			"accepted_version": integer, "current_version": integer, "reconsent_required": boolean,
		}),
		"created_at":            dateTime,
		"deletion_scheduled_at": map[string]any{"type": "string", "format": "date-time", "description": "When the deletion the owner asked for takes effect; absent when none is scheduled."},
		"language":              map[string]any{"type": "string", "enum": []string{"en", "zh-CN"}},
		"avatar_url":            avatarURLSchema,
	}),
	"MeList":            listOf("Me"),
	"SignedIn":          obj([]string{"account", "token"}, map[string]any{"account": ref("Me"), "token": str}),
	"DeletionScheduled": obj([]string{"deletion_scheduled_at"}, map[string]any{"deletion_scheduled_at": dateTime}),
	"LegacyContact": obj([]string{"account_id", "handle", "display_name", "may_download", "updated_at"}, map[string]any{
		"account_id": idSchema, "handle": str, "display_name": str, "may_download": boolean, "updated_at": dateTime,
	}),
	"LegacyContactSet": obj([]string{"account_id", "may_download"}, map[string]any{"account_id": idSchema, "may_download": boolean}),
	"Profile": obj([]string{"id", "handle", "display_name", "verified", "memorialised", "follower_count", "following_count", "post_count"}, map[string]any{
		"id": idSchema, "handle": str, "display_name": str, "verified": boolean, "status": str, "memorialised": boolean,
		"follower_count": integer, "following_count": integer, "post_count": integer, "following": boolean,
		"avatar_url": avatarURLSchema,
	}),
	"Privacy":      obj([]string{"find_by_handle", "find_by_phone"}, map[string]any{"find_by_handle": boolean, "find_by_phone": boolean}),
	"PrivacyPatch": obj(nil, map[string]any{"find_by_handle": boolean, "find_by_phone": boolean}),
	"AvatarSet":    obj([]string{"media_id"}, map[string]any{"media_id": idSchema}),
	"InviteCreated": obj([]string{"id", "token", "url", "prefix", "created_at", "expires_at"}, map[string]any{
		"id": idSchema, "token": map[string]any{"type": "string", "description": "144 random bits, base64url; shown only once."},
		"url":    map[string]any{"type": "string", "description": "/add/TOKEN: the web client's page that opens a contact request."},
		"prefix": str, "created_at": dateTime, "expires_at": dateTime,
	}),
	"Invite":     obj([]string{"id", "account_id", "prefix", "created_at", "expires_at"}, map[string]any{"id": idSchema, "account_id": idSchema, "prefix": str, "created_at": dateTime, "expires_at": dateTime}),
	"InviteList": listOf("Invite"),
	"InviteView": obj([]string{"account", "expires_at"}, map[string]any{"account": ref("Profile"), "expires_at": dateTime}),
	"MicroPostNew": obj(nil, map[string]any{
		"text":       map[string]any{"type": "string", "maxLength": 2000, "description": "At most 2,000 Unicode code points; #tag, #话题# and @handle are parsed."},
		"media_ids":  map[string]any{"type": "array", "items": idSchema, "maxItems": 9},
		"visibility": map[string]any{"type": "string", "enum": []string{"public", "followers", "contacts"}},
		"reply_to":   idSchema, "repost_of": idSchema, "category": str,
	}),
	"MicroPost": obj([]string{"id", "author_id", "text", "media_ids", "visibility", "status", "hashtags", "mentions", "like_count", "reply_count", "repost_count", "liked", "created_at"}, map[string]any{
		"id": idSchema, "author_id": idSchema, "text": str, "media_ids": map[string]any{"type": "array", "items": idSchema},
		"visibility": map[string]any{"type": "string", "enum": []string{"public", "followers", "contacts"}},
		"reply_to":   map[string]any{"type": []string{"string", "null"}}, "repost_of": map[string]any{"type": []string{"string", "null"}},
		"category": str, "status": map[string]any{"type": "string", "enum": []string{"published", "pending_review", "rejected"}}, "reason": str,
		"hashtags":   map[string]any{"type": "array", "items": str, "description": "Case-folded (NFKC)."},
		"mentions":   map[string]any{"type": "array", "items": str, "description": "Handles of the accounts mentioned."},
		"like_count": integer, "reply_count": integer, "repost_count": integer, "liked": boolean, "created_at": dateTime, "published_at": dateTime,
		"label": modLabel, "limited": modLimited, "removed": modRemoved, "decision_id": modDecision,
	}),
	"MicroPostList": listOf("MicroPost"),
	"FollowEntry":   obj(nil, map[string]any{"id": idSchema, "handle": str, "display_name": str, "followed_at": dateTime}),
	"FollowList":    listOf("FollowEntry"),
	"Trend":         obj([]string{"tag", "post_count", "account_count"}, map[string]any{"tag": str, "post_count": integer, "account_count": integer}),
	"TrendList":     obj([]string{"items"}, map[string]any{"items": map[string]any{"type": "array", "items": ref("Trend")}}),
	"Notification": obj([]string{"id", "kind", "actor_id", "post_id", "read", "created_at"}, map[string]any{
		"id": idSchema, "kind": map[string]any{"type": "string", "enum": []string{"mention", "reply", "like", "repost", "follow"}},
		"actor_id": idSchema, "post_id": map[string]any{"type": []string{"string", "null"}}, "read": boolean, "created_at": dateTime,
	}),
	"NotificationList": obj([]string{"items", "next_cursor", "unread_count"}, map[string]any{
		"items": map[string]any{"type": "array", "items": ref("Notification")}, "next_cursor": str,
		"unread_count": map[string]any{"type": "integer", "description": "Unread notifications, counted up to 1,000."},
	}),
	"NotificationsRead":     obj([]string{"up_to"}, map[string]any{"up_to": idSchema}),
	"AccountCredential":     obj(nil, map[string]any{"id": idSchema, "account_id": idSchema, "category": str, "expires_at": dateTime, "revoked_at": dateTime, "created_at": dateTime}),
	"AccountCredentialList": listOf("AccountCredential"),
	"Session": obj(nil, map[string]any{
		"id": idSchema, "user_agent": str, "created_at": dateTime, "last_used_at": dateTime, "expires_at": dateTime, "current": boolean,
	}),
	"SessionList": listOf("Session"),
	"Export": obj([]string{"id", "account_id", "status", "progress", "size", "download_url", "expires_at", "created_at"}, map[string]any{
		"id": idSchema, "account_id": map[string]any{"type": "string", "pattern": "^[0-9]+$", "description": "Whose data: the caller's own, or the account whose legacy contact asked."},
		"status":       map[string]any{"type": "string", "enum": []string{"pending", "running", "ready", "failed", "expired"}},
		"progress":     map[string]any{"type": "number", "minimum": 0, "maximum": 1},
		"size":         map[string]any{"type": "integer", "description": "The ZIP's bytes, once ready."},
		"download_url": map[string]any{"type": []string{"string", "null"}, "description": "Set once ready: GET it with the same authorization."},
		"expires_at":   map[string]any{"type": []string{"string", "null"}, "format": "date-time", "description": "Set once ready: after it the download answers 410."},
		"created_at":   dateTime, "finished_at": dateTime,
		"error": map[string]any{"type": "string", "description": "Why a failed export failed."},
	}),
	"ExportList": listOf("Export"),
	"AuditEntry": obj(nil, map[string]any{
		"seq": integer, "at": dateTime, "actor_id": idSchema, "actor": str, "action": str,
		"target_type": str, "target_id": str, "reason": str, "details": map[string]any{"type": "object"},
		"prev_hash": str, "hash": str,
	}),
	"AuditList": listOf("AuditEntry"),
	"Policy": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string", "enum": []string{"none", "phone", "identity"}},
		"description": "Action (contact.request, conversation.create, message.send, post.create, identity.submit, channel.apply, channel.publish) → level."},
	"Phone": obj([]string{"phone"}, map[string]any{"phone": map[string]any{"type": "string", "description": "International form, e.g. +8613800138000."}}),
	"CodeSent": obj([]string{"status", "expires_at", "resend_after", "delivery"}, map[string]any{"status": str, "expires_at": dateTime, "resend_after": dateTime,
		"delivery": map[string]any{"type": "string", "enum": []string{"sms", "outbox"}, "description": "outbox: the development sender wrote the code to DATA/outbox/sms.jsonl; no text message was sent."}}),
	"Overview": obj([]string{"roles", "waiting", "count_limit"}, map[string]any{"roles": map[string]any{"type": "array", "items": str}, "waiting": counts, "count_limit": integer}),
	"Code":     obj([]string{"code"}, map[string]any{"code": map[string]any{"type": "string", "pattern": "^[0-9]{6}$"}}),
	"Verification": obj([]string{"phone", "identity"}, map[string]any{
		"phone":           boolean,
		"identity":        map[string]any{"type": "string", "enum": []string{"none", "pending", "verified", "rejected"}},
		"identity_reason": str,
	}),
	"IdentitySubmission": obj([]string{"legal_name", "document_type", "document_number", "document_country"}, map[string]any{
		"legal_name":       map[string]any{"type": "string", "minLength": 1, "maxLength": 128},
		"document_type":    map[string]any{"type": "string", "enum": []string{"national_id", "passport"}},
		"document_number":  map[string]any{"type": "string", "description": "For a CN national_id: 18 characters with a valid ISO 7064 MOD 11-2 check digit."},
		"document_country": map[string]any{"type": "string", "pattern": "^[A-Z]{2}$"},
	}),
	"Identity": obj([]string{"id", "account_id", "status"}, map[string]any{
		"id": idSchema, "account_id": idSchema,
		"status":        map[string]any{"type": "string", "enum": []string{"pending", "verified", "rejected"}},
		"document_type": str, "document_country": str, "submitted_at": dateTime, "decided_at": dateTime, "reason": str,
	}),
	"Review": map[string]any{"allOf": []any{ref("Identity"), obj(nil, map[string]any{
		"legal_name": str, "document_number": str, "decided_by": str,
		"open_error": map[string]any{"type": "string", "description": "Set when the sealed fields do not open (tampering or a lost key)."},
	})}},
	"ReviewList": listOf("Review"),
	"Decision":   obj([]string{"approve"}, map[string]any{"approve": boolean, "reason": map[string]any{"type": "string", "maxLength": 1000}}),
	"ContactRequestNew": obj(nil, map[string]any{"account_id": idSchema, "note": map[string]any{"type": "string", "maxLength": 200},
		"invite_token": map[string]any{"type": "string", "description": "The token of the invite link the request comes from: checked (404 if it does not work, 409 if it is your own, 400 if it is not account_id's) and, without account_id, names the person. account_id or invite_token is required."}}),
	"ContactRequest": obj(nil, map[string]any{"id": idSchema, "from_id": idSchema, "to_id": idSchema, "note": str,
		"status": map[string]any{"type": "string", "enum": []string{"pending", "accepted", "declined"}}, "created_at": dateTime}),
	"ContactRequestList": listOf("ContactRequest"),
	"Contact":            obj(nil, map[string]any{"id": idSchema, "handle": str, "display_name": str, "since": dateTime, "avatar_url": avatarURLSchema}),
	"ContactList":        listOf("Contact"),
	"AccountRef":         obj([]string{"account_id"}, map[string]any{"account_id": idSchema}),
	"BlockList":          listOf("AccountRef"),
	"AccountIDs":         obj([]string{"account_ids"}, map[string]any{"account_ids": map[string]any{"type": "array", "items": idSchema}}),
	"Title":              obj([]string{"title"}, map[string]any{"title": map[string]any{"type": "string", "minLength": 1, "maxLength": 64}}),
	"Role":               obj([]string{"role"}, map[string]any{"role": map[string]any{"type": "string", "enum": []string{"admin", "member"}}}),
	"ConversationNew": obj([]string{"kind", "member_ids"}, map[string]any{
		"kind": map[string]any{"type": "string", "enum": []string{"direct", "group"}}, "title": str,
		"member_ids": map[string]any{"type": "array", "items": idSchema},
	}),
	"Conversation": obj([]string{"id", "kind", "member_ids", "last_seq"}, map[string]any{
		"id": idSchema, "kind": str, "title": str, "member_ids": map[string]any{"type": "array", "items": idSchema},
		"owner_id": idSchema, "admin_ids": map[string]any{"type": "array", "items": idSchema},
		"last_seq": integer, "created_at": dateTime, "updated_at": dateTime,
	}),
	"ConversationSummary": map[string]any{"allOf": []any{ref("Conversation"), obj(nil, map[string]any{
		"read_seq": integer, "unread_count": integer, "last_message": ref("Message"),
		"muted": boolean, "muted_until": dateTime,
	})}},
	"Mute":     obj([]string{"muted", "until"}, map[string]any{"muted": boolean, "until": map[string]any{"type": []string{"string", "null"}, "format": "date-time", "description": "null: until unmuted."}}),
	"MuteSet":  obj([]string{"muted"}, map[string]any{"muted": boolean, "until": map[string]any{"type": "string", "format": "date-time", "description": "Optional end of the mute, in the future."}}),
	"VAPIDKey": obj([]string{"public_key"}, map[string]any{"public_key": map[string]any{"type": "string", "description": "The VAPID public key, base64url (no padding) of the 65-byte uncompressed P-256 point: the applicationServerKey for PushManager.subscribe."}}),
	"PushSubscriptionNew": obj([]string{"endpoint", "keys"}, map[string]any{
		"endpoint":       map[string]any{"type": "string", "maxLength": 2048, "description": "The push service's https URL (http only for loopback hosts, when the server allows those)."},
		"keys":           obj([]string{"p256dh", "auth"}, map[string]any{"p256dh": map[string]any{"type": "string", "description": "base64url, 65 bytes: an uncompressed P-256 point."}, "auth": map[string]any{"type": "string", "description": "base64url, 16 bytes."}}),
		"expirationTime": map[string]any{"type": []string{"number", "null"}, "description": "Accepted from PushSubscription.toJSON() and ignored."},
	}),
	"PushSubscription":     obj([]string{"id", "endpoint", "created_at"}, map[string]any{"id": idSchema, "endpoint": str, "created_at": dateTime}),
	"PushSubscriptionList": listOf("PushSubscription"),
	"ConversationList":     listOf("ConversationSummary"),
	"MessageNew": obj([]string{"client_id", "kind"}, map[string]any{
		"client_id": map[string]any{"type": "string", "maxLength": 64}, "kind": map[string]any{"type": "string", "enum": []string{"text", "image", "video", "voice", "file"}},
		"text": map[string]any{"type": "string", "maxLength": 4096}, "media_id": idSchema, "reply_to": idSchema,
		"mentions": map[string]any{"type": "array", "items": idSchema, "maxItems": 50},
	}),
	"Message": obj([]string{"id", "conversation_id", "seq", "sender_id", "kind", "text", "media_id", "created_at"}, map[string]any{
		"id": idSchema, "conversation_id": idSchema, "seq": integer, "sender_id": idSchema, "client_id": str, "kind": str, "text": str,
		"media_id": map[string]any{"type": []string{"string", "null"}}, "reply_to": idSchema, "mentions": map[string]any{"type": "array", "items": idSchema},
		"recalled": boolean, "created_at": dateTime,
		"label": modLabel, "removed": modRemoved, "decision_id": modDecision,
	}),
	"MessageList": listOf("Message"),
	"MessageSearchPage": obj([]string{"items", "next", "next_cursor"}, map[string]any{
		"items":       map[string]any{"type": "array", "items": obj([]string{"message", "conversation_id"}, map[string]any{"message": ref("Message"), "conversation_id": idSchema})},
		"next":        map[string]any{"type": "string", "description": "Pass as ?before= for the next page; empty when there is none."},
		"next_cursor": map[string]any{"type": "string", "description": "The same as next."},
	}),
	"ReadPosition": obj([]string{"seq"}, map[string]any{"seq": integer}),
	"SyncPage": obj([]string{"events", "cursor", "more"}, map[string]any{
		"events": map[string]any{"type": "array", "items": obj([]string{"type", "cursor", "data"}, map[string]any{"type": str, "cursor": str, "data": map[string]any{"type": "object"}})},
		"cursor": str, "more": boolean,
	}),
	"Upload": obj([]string{"file"}, map[string]any{"file": map[string]any{"type": "string", "format": "binary"}}),
	"Media": obj([]string{"id", "kind", "content_type", "size"}, map[string]any{
		"id": idSchema, "owner_id": idSchema, "kind": map[string]any{"type": "string", "enum": []string{"image", "video", "audio", "file"}},
		"content_type": str, "size": integer, "width": integer, "height": integer, "duration_ms": integer,
		"has_thumbnail": boolean, "sha256": str, "created_at": dateTime,
	}),
	"MediaItem": obj([]string{"id", "kind", "content_type", "size", "width", "height", "duration_ms", "created_at"}, map[string]any{
		"id": idSchema, "kind": map[string]any{"type": "string", "enum": []string{"image", "video", "audio", "file"}},
		"content_type": str, "size": integer, "width": integer, "height": integer, "duration_ms": integer,
		"has_thumbnail": boolean, "created_at": dateTime,
		"in_messages": map[string]any{"type": "boolean", "description": "A sent message carries it: deleting it frees the quota, but that conversation can read it until the message is recalled."},
	}),
	"MediaItemList": obj([]string{"items", "next_cursor"}, map[string]any{
		"items":       map[string]any{"type": "array", "items": ref("MediaItem")},
		"next_cursor": map[string]any{"type": "string", "description": "Pass as ?before= for the next page; empty when there is none."},
	}),
	"ChannelApplicationNew": obj([]string{"handle", "name", "kind"}, map[string]any{"handle": str, "name": str, "description": str,
		"kind": map[string]any{"type": "string", "enum": []string{"subscription", "service"}}}),
	"ChannelApplication": obj([]string{"id", "status"}, map[string]any{"id": idSchema, "applicant_id": idSchema, "handle": str, "name": str, "description": str,
		"kind": str, "status": map[string]any{"type": "string", "enum": []string{"pending", "approved", "rejected"}}, "reason": str, "channel_id": idSchema,
		"created_at": dateTime, "decided_at": dateTime}),
	"ChannelApplicationList": listOf("ChannelApplication"),
	"Channel": obj([]string{"id", "handle", "name", "verified"}, map[string]any{"id": idSchema, "handle": str, "name": str, "description": str, "kind": str,
		"owner_id": idSchema, "editor_ids": map[string]any{"type": "array", "items": idSchema}, "verified": boolean, "approved_at": dateTime,
		"status": str, "status_reason": str, "follower_count": integer, "daily_post_limit": integer, "monthly_post_limit": integer, "following": boolean,
		"label": modLabel, "limited": modLimited, "removed": modRemoved, "decision_id": modDecision}),
	"ChannelList": listOf("Channel"),
	"PostNew": obj([]string{"title", "body", "category"}, map[string]any{"title": str, "body": map[string]any{"type": "string", "description": "Markdown"},
		"category": str, "cover_media_id": idSchema, "media_ids": map[string]any{"type": "array", "items": idSchema}}),
	"Post": obj([]string{"id", "status"}, map[string]any{"id": idSchema, "channel_id": idSchema, "author_id": idSchema, "title": str, "body": str,
		"body_html": map[string]any{"type": "string", "description": "The Markdown rendered and sanitised."}, "category": str, "cover_media_id": idSchema,
		"media_ids": map[string]any{"type": "array", "items": idSchema}, "status": map[string]any{"type": "string", "enum": []string{"published", "pending_review", "rejected"}},
		"reason": str, "created_at": dateTime, "published_at": dateTime,
		"label": modLabel, "limited": modLimited, "removed": modRemoved, "decision_id": modDecision}),
	"PostList": listOf("Post"),
	"Feed": obj([]string{"items", "next_cursor", "unread"}, map[string]any{"items": map[string]any{"type": "array", "items": ref("Post")}, "next_cursor": str,
		"unread": map[string]any{"type": "array", "items": obj(nil, map[string]any{"channel_id": idSchema, "unread_count": integer})}}),
	"Category":         obj([]string{"name", "policy"}, map[string]any{"name": str, "policy": map[string]any{"type": "string", "enum": []string{"open", "credential", "review", "forbidden"}}, "description": str}),
	"CategoryList":     listOf("Category"),
	"CategoryPut":      obj([]string{"policy"}, map[string]any{"policy": map[string]any{"type": "string", "enum": []string{"open", "credential", "review", "forbidden"}}, "description": str}),
	"CredentialNew":    obj([]string{"category", "expires_at"}, map[string]any{"category": str, "expires_at": dateTime}),
	"Credential":       obj(nil, map[string]any{"id": idSchema, "channel_id": idSchema, "category": str, "expires_at": dateTime, "revoked_at": dateTime, "created_at": dateTime}),
	"CredentialList":   listOf("Credential"),
	"ChannelLimits":    obj(nil, map[string]any{"daily_post_limit": integer, "monthly_post_limit": integer}),
	"ChannelStatus":    obj([]string{"status", "reason"}, map[string]any{"status": map[string]any{"type": "string", "enum": []string{"active", "suspended", "closed"}}, "reason": str}),
	"ProviderDecision": obj([]string{"identity_id", "approve"}, map[string]any{"identity_id": idSchema, "approve": boolean, "reason": str}),
	"AuditReport": obj([]string{"ok", "rows"}, map[string]any{
		"ok": boolean, "rows": integer, "first_broken_seq": integer, "problem": str,
	}),
}

var statusText = map[int]string{
	400: "Invalid request: details.fields names each field and rule.",
	401: "Not signed in, or the session expired.",
	403: "Refused: forbidden, terms_acceptance_required, age_requirement, account_suspended, account_closed, verification_required, not_a_contact, blocked, recall_window_expired, …",
	410: "Gone: the cursor is older than the sync log keeps (cursor_expired: reload, then sync from details.cursor), or the other person closed or deleted their account (gone).",
	404: "Not found.",
	409: "Conflict with the current state.",
	413: "The body is too large.",
	415: "The body must be application/json.",
	429: "Rate limited: Retry-After says when to try again.",
	503: "Unavailable: the store did not take the write in time (sending again is safe), or the node is restarting (Retry-After: 1; try again, another node answers).",
}

var (
	openAPIOnce sync.Once
	openAPIDoc  []byte
)

// buildOpenAPI renders the OpenAPI 3.1 document from operations.
// frameTypes lists the stream's frame types from events.Types, the one
// list in code.
func frameTypes() []any {
	out := make([]any, 0, len(events.Types))
	for _, ft := range events.Types {
		out = append(out, map[string]any{"type": ft.Name, "direction": string(ft.Direction), "stored": ft.Stored, "description": ft.Description})
	}
	return out
}

func buildOpenAPI(version string) []byte {
	paths := map[string]map[string]any{}
	for _, op := range operations {
		errRef := map[string]any{"application/json": map[string]any{"schema": ref("Error")}}
		responses := map[string]any{}
		ok := map[string]any{"description": "Success."}
		switch op.response {
		case "":
		case "text":
			ok["content"] = map[string]any{"text/plain": map[string]any{"schema": str}}
		case "bytes":
			ok["content"] = map[string]any{"application/octet-stream": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
		case "object":
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
		default:
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": ref(op.response)}}
		}
		responses[strconv.Itoa(op.status)] = ok
		codes := append([]int(nil), op.errors...)
		if op.auth != public {
			codes = append(codes, 401, 403)
		}
		if op.body != "" {
			codes = append(codes, 400, 413, 415)
		}
		for _, c := range codes {
			responses[strconv.Itoa(c)] = map[string]any{"description": statusText[c], "content": errRef}
		}
		responses["500"] = map[string]any{"description": "Internal error; details.request_id identifies it in the server's log.", "content": errRef}
		o := map[string]any{
			"operationId": strings.ToLower(op.method) + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_", ".", "_").Replace(op.path),
			"summary":     op.summary,
			"tags":        []string{op.tag},
			"responses":   responses,
		}
		switch op.auth {
		case public:
		case optional:
			// Anonymous callers too: an empty requirement is "none".
			o["security"] = []any{map[string]any{}, map[string]any{"bearer": []string{}}}
		default:
			o["security"] = []any{map[string]any{"bearer": []string{}}}
		}
		if len(op.roles) > 0 {
			names := make([]string, len(op.roles))
			for i, r := range op.roles {
				names[i] = string(r)
			}
			o["x-plaza-roles"] = names
		}
		if op.path == "/api/v1/stream" {
			o["x-plaza-frames"] = frameTypes()
		}
		if op.body != "" {
			mt := "application/json"
			if op.body == "Upload" {
				mt = "multipart/form-data"
			}
			o["requestBody"] = map[string]any{"required": true, "content": map[string]any{mt: map[string]any{"schema": ref(op.body)}}}
		}
		var params []any
		for _, seg := range strings.Split(op.path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": str})
			}
		}
		if params != nil {
			o["parameters"] = params
		}
		if paths[op.path] == nil {
			paths[op.path] = map[string]any{}
		}
		paths[op.path][strings.ToLower(op.method)] = o
	}
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "Plaza API",
			"version":     version,
			"description": "Plaza's HTTP API. IDs are decimal strings, times RFC 3339 UTC. Errors are {\"error\": {\"code\", \"message\", \"details\"}}.",
		},
		"servers": []any{map[string]any{"url": "/"}},
		"paths":   paths,
		"components": map[string]any{
			"schemas":         schemas,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err) // only static data above: a failure here is a programming error
	}
	return b
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	openAPIOnce.Do(func() { openAPIDoc = buildOpenAPI(s.cfg.Version) })
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, err := w.Write(openAPIDoc)
	return err
}
