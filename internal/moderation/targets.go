package moderation

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/account"
	"github.com/plaza-im/plaza/internal/events"
)

// accountTarget makes accounts reportable. A decision acts on an account
// by suspending or closing it, never by labelling it.
type accountTarget struct{ accounts *account.Service }

func (t accountTarget) Visible(ctx context.Context, _, id plaza.ID) (Snapshot, error) {
	p, err := t.accounts.Profile(ctx, id)
	if plaza.ErrorCode(err) == plaza.EGone {
		// What a caller cannot see is not found, deleted or not.
		return Snapshot{}, plaza.Errorf(plaza.ENotFound, "account not found")
	}
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{Type: TargetAccount, ID: p.ID, OwnerID: p.ID, Handle: p.Handle, DisplayName: p.DisplayName, Status: string(p.Status)}, nil
}

func (t accountTarget) View(ctx context.Context, id plaza.ID) (Snapshot, error) {
	a, err := t.accounts.Get(ctx, id)
	if err != nil {
		return Snapshot{}, err
	}
	created := a.CreatedAt
	return Snapshot{Type: TargetAccount, ID: a.ID, OwnerID: a.ID, Handle: a.Handle, DisplayName: a.DisplayName, Status: string(a.Status), CreatedAt: &created}, nil
}

func (accountTarget) Apply(context.Context, *sql.Tx, plaza.ID, plaza.Moderation) ([]events.Pending, error) {
	return nil, fmt.Errorf("accounts are suspended or closed, not labelled, limited or removed")
}

func (accountTarget) Responsible(_ context.Context, id plaza.ID) ([]plaza.ID, error) {
	return []plaza.ID{id}, nil
}
