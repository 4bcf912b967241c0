package media_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// A full quota is freed by deleting media, as the quota error advises;
// only the owner may delete, and a deleted item is gone.
func TestDeleteFreesQuota(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			ctx := context.Background()
			cfg := media.DefaultConfig()
			cfg.Quota = 1 << 20
			svc, owner := newServiceOn(t, e, cfg)
			data := randomBytes(600 << 10)
			it, err := svc.Upload(ctx, owner, bytes.NewReader(data), "")
			if err != nil {
				t.Fatal(err)
			}
			_, err = svc.Upload(ctx, owner, bytes.NewReader(data), "")
			if plaza.ErrorCode(err) != plaza.EQuotaExceeded {
				t.Fatalf("second upload: got %v, want quota_exceeded", err)
			}
			if err := svc.Delete(ctx, plaza.NewID(), it.ID); plaza.ErrorCode(err) != plaza.ENotFound {
				t.Errorf("delete by another account: got %v, want not_found", err)
			}
			if err := svc.Delete(ctx, owner, it.ID); err != nil {
				t.Fatalf("delete: %v", err)
			}
			if _, err := svc.Get(ctx, it.ID); plaza.ErrorCode(err) != plaza.ENotFound {
				t.Errorf("get after delete: got %v, want not_found", err)
			}
			if err := svc.Delete(ctx, owner, it.ID); plaza.ErrorCode(err) != plaza.ENotFound {
				t.Errorf("second delete: got %v, want not_found", err)
			}
			if u, err := svc.Usage(ctx, owner); err != nil || u.Used != 0 {
				t.Errorf("usage after delete: got %+v, %v, want 0 used", u, err)
			}
			if _, err := svc.Upload(ctx, owner, bytes.NewReader(data), ""); err != nil {
				t.Errorf("upload after freeing the quota: %v", err)
			}
		})
	}
}
