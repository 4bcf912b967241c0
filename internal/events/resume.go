package events

import (
	"context"
	"fmt"
	"strconv"

	"github.com/plaza-im/plaza"
)

// Resumable checks that account's sync log can be resumed after since,
// without reading any event, and returns the newest cursor: a stream
// checks this before it upgrades, so a device with a cursor ahead of the
// log or older than what is kept gets the API's error rather than a
// stream. At a reconnect storm of ten thousand devices, reading and
// rendering an event for each only to learn this was a fifth of the
// server's work.
func (l *Log) Resumable(ctx context.Context, account plaza.ID, since int64) (int64, error) {
	head, err := l.Head(ctx, account)
	if err != nil {
		return 0, fmt.Errorf("sync: %w", err)
	}
	if since > head {
		return 0, plaza.Invalid("since", "is ahead of this account's newest cursor")
	}
	if since == head || since < 0 {
		return head, nil
	}
	first, err := l.first(ctx, account)
	if err != nil {
		return 0, fmt.Errorf("sync: %w", err)
	}
	if !first.Valid || since+1 < first.Int64 {
		return 0, plaza.Errorf(plaza.ECursorExpired, "the cursor is older than the %s kept in the sync log: reload conversations and history, then sync from the current cursor", l.retention).
			WithDetails(map[string]any{"cursor": strconv.FormatInt(head, 10)})
	}
	return head, nil
}
