package media_test

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// List pages through the owner's own media newest first, and leaves out
// other accounts' items and the owner's deleted ones.
func TestList(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			f := newFixture(t, e, media.DefaultConfig())
			var ids []plaza.ID
			for i := range 5 {
				it, err := f.svc.Upload(ctx, f.owner, bytes.NewReader(randomBytes(100+i)), "")
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, it.ID)
			}
			if _, err := f.svc.Upload(ctx, f.other, bytes.NewReader(randomBytes(10)), ""); err != nil {
				t.Fatal(err)
			}
			if err := f.svc.Delete(ctx, f.owner, ids[1]); err != nil {
				t.Fatal(err)
			}
			want := []plaza.ID{ids[4], ids[3], ids[2], ids[0]}

			var got []plaza.ID
			var before plaza.ID
			for page := 0; ; page++ {
				items, err := f.svc.List(ctx, f.owner, before, 3)
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range items {
					if it.OwnerID != f.owner || it.Released || it.Size == 0 || it.CreatedAt.IsZero() {
						t.Errorf("listed item %+v, want one of the owner's, not released, with its size and time", it)
					}
					got = append(got, it.ID)
				}
				if len(items) < 3 || page > 5 {
					break
				}
				before = items[len(items)-1].ID
			}
			if !slices.Equal(got, want) {
				t.Errorf("listed %v, want %v", got, want)
			}

			tests := []struct {
				name   string
				before plaza.ID
				limit  int
				want   int
			}{
				{"limit below 1 lists one", 0, 0, 1},
				{"limit above the most lists all", 0, media.MaxList + 1, 4},
				{"before the oldest lists none", ids[0], 10, 0},
			}
			for _, tc := range tests {
				items, err := f.svc.List(ctx, f.owner, tc.before, tc.limit)
				if err != nil || len(items) != tc.want {
					t.Errorf("%s: got %d items, %v; want %d", tc.name, len(items), err, tc.want)
				}
			}
			if items, err := f.svc.List(ctx, plaza.NewID(), 0, 10); err != nil || len(items) != 0 {
				t.Errorf("an unknown account's list: got %v, %v; want none", items, err)
			}
		})
	}
}
