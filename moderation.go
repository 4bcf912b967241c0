package plaza

// Moderation is what the moderation decision in force on a piece of
// content (a microblog post, a channel post, a message or a channel) does
// to it. Domains store it beside the content and apply it on every read,
// so that reversing a decision puts the content back everywhere; package
// moderation sets it.
type Moderation struct {
	// Action is "" (no decision in force), ModLabel, ModLimit or ModRemove.
	Action string
	// Label is the note shown with labelled content.
	Label string
	// DecisionID is the decision in force; 0 with no Action.
	DecisionID ID
	// Replaces, when set, makes the change only if that decision is the
	// one in force: reversing a decision must not undo a later one that
	// took its place meanwhile. A change that does not apply is not_found.
	Replaces ID
}

// Moderation actions on content.
const (
	// ModLabel shows Label with the content to everyone.
	ModLabel = "label"
	// ModLimit keeps the content out of search, trending and hashtag
	// pages, and from everyone but its author and the author's followers.
	ModLimit = "limit"
	// ModRemove hides the content from everyone but its author, who sees
	// it marked removed with the decision.
	ModRemove = "remove"
)
