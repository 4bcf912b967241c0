package events

// Frame types. Types lists them all, with what each is for: docs/api.md
// and the OpenAPI document's description of the stream are checked
// against it.
const (
	// Server to device.
	Ready               = "ready"
	Error               = "error"
	MessageAck          = "message.ack"
	MessageCreated      = "message.created"
	MessageRecalled     = "message.recalled"
	MessageModerated    = "message.moderated"
	ConversationRead    = "conversation.read"
	ConversationUpdated = "conversation.updated"
	ContactRequest      = "contact.request"
	ContactAccepted     = "contact.accepted"
	Typing              = "typing"
	ChannelPost         = "channel.post"
	PostCreated         = "post.created"
	Notification        = "notification"
	ModerationDecision  = "moderation.decision"
	ModerationReport    = "moderation.report"
	// Device to server.
	MessageSend = "message.send"
	// Between nodes only.
	Control = "control"
)

// Direction says who sends a frame type to whom.
type Direction string

// Directions of frame types.
const (
	ToDevice     Direction = "server->client"
	FromDevice   Direction = "client->server"
	BetweenNodes Direction = "node->node"
)

// FrameType describes one frame type.
type FrameType struct {
	Name      string
	Direction Direction
	// Stored types are numbered in the sync log and carry a cursor.
	Stored      bool
	Description string
}

// Types is the one list of frame types.
var Types = []FrameType{
	{Ready, ToDevice, false, "the replay after since= is done; cursor is the last event sent"},
	{Error, ToDevice, false, "a device frame (by id) was refused: data is {code, message, details}"},
	{MessageAck, ToDevice, false, "a message.send (by id) is stored: data is the message"},
	{MessageCreated, ToDevice, true, "a message in one of your conversations: data is the message"},
	{MessageRecalled, ToDevice, true, "a message was recalled: data is the message without its text"},
	{MessageModerated, ToDevice, true, "a moderation decision on a message changed: data is the message as you now see it (labelled; removed: without its text and media, but to its sender; or restored)"},
	{ConversationRead, ToDevice, true, "a read position moved: data is {conversation_id, account_id, seq}"},
	{ConversationUpdated, ToDevice, true, "a conversation was created or changed: data is the conversation"},
	{ContactRequest, ToDevice, true, "someone asked to be your contact: data is the request"},
	{ContactAccepted, ToDevice, true, "a contact request was accepted: data is the request"},
	{Typing, ToDevice, false, "a member is typing: data is {conversation_id, account_id}; not stored"},
	{ChannelPost, ToDevice, false, "a followed channel published a post: data is the post; not in the sync log"},
	{PostCreated, ToDevice, false, "an account you follow (or, for a contacts post, a contact) published a microblog post: data is the post; catch up in the timeline"},
	{Notification, ToDevice, true, "a mention, reply, like, repost or new follower: data is the notification {id, kind, actor_id, post_id, read, created_at}"},
	{ModerationDecision, ToDevice, true, "a moderation decision about you or your content, or its appeal's outcome: data is the statement of reasons (as GET /api/v1/me/decisions/{id})"},
	{ModerationReport, ToDevice, true, "a report you made was decided, or its decision reversed on appeal: data is the report with its outcome (as GET /api/v1/me/reports)"},
	{MessageSend, FromDevice, false, "send a message: {id, data: {conversation_id, client_id, kind, text, ...}}"},
	{Typing, FromDevice, false, "tell the members you are typing: {data: {conversation_id}}"},
	{Control, BetweenNodes, false, "follow changes, standing re-checks and stream closes for the nodes; never sent to devices"},
}
