package media_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/media"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// barrierReader serves data, then waits at the end until every reader of
// its group has served all of its data, so that the uploads reach their
// quota checks together.
type barrierReader struct {
	r    io.Reader
	done *sync.WaitGroup
	once sync.Once
}

func (b *barrierReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.once.Do(func() {
			b.done.Done()
			b.done.Wait()
		})
	}
	return n, err
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}

// Six concurrent 600 KB uploads against a 1 MiB quota: exactly one may be
// stored, and the account ends within its quota.
func TestHostileConcurrentUploadsQuota(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			cfg := media.DefaultConfig()
			cfg.Quota = 1 << 20
			svc, owner := newServiceOn(t, e, cfg)
			data := randomBytes(600 << 10)
			const n = 6
			var done, wg sync.WaitGroup
			done.Add(n)
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = svc.Upload(context.Background(), owner, &barrierReader{r: bytes.NewReader(data), done: &done}, "")
				}()
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch code := plaza.ErrorCode(err); code {
				case "":
					ok++
				case plaza.EQuotaExceeded:
				default:
					t.Errorf("upload: got %v, want success or quota_exceeded", err)
				}
			}
			if ok != 1 {
				t.Errorf("%d of %d uploads stored, want exactly 1", ok, n)
			}
			u, err := svc.Usage(context.Background(), owner)
			if err != nil {
				t.Fatal(err)
			}
			if u.Used > cfg.Quota || u.Reserved != 0 {
				t.Errorf("usage after the uploads: got %+v, want used <= %d and nothing reserved", u, cfg.Quota)
			}
		})
	}
}

// A reservation counts against the quota until it is settled or released,
// and resumable reservations are capped per account.
func TestHostileReservationsCount(t *testing.T) {
	for _, e := range sqldbtest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			cfg := media.DefaultConfig()
			cfg.Quota = 1 << 20
			cfg.MaxUnfinished = 2
			svc, owner := newServiceOn(t, e, cfg)
			ctx := context.Background()
			res, err := svc.Reserve(ctx, owner, 700<<10, true)
			if err != nil {
				t.Fatal(err)
			}
			if u, _ := svc.Usage(ctx, owner); u.Reserved != 700<<10 || u.Unfinished != 1 {
				t.Errorf("usage with a reservation: got %+v, want 700 KiB reserved, 1 unfinished", u)
			}
			if _, err := svc.Upload(ctx, owner, bytes.NewReader(randomBytes(400<<10)), ""); plaza.ErrorCode(err) != plaza.EQuotaExceeded {
				t.Errorf("upload past the reserved quota: got %v, want quota_exceeded", err)
			}
			if _, err := svc.Reserve(ctx, owner, 1, true); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Reserve(ctx, owner, 1, true); plaza.ErrorCode(err) != plaza.EQuotaExceeded {
				t.Errorf("a third unfinished upload with a limit of 2: got %v, want quota_exceeded", err)
			}
			if err := svc.Release(ctx, res.ID); err != nil {
				t.Fatal(err)
			}
			if u, _ := svc.Usage(ctx, owner); u.Reserved != 1 || u.Unfinished != 1 {
				t.Errorf("usage after release: got %+v, want 1 byte reserved, 1 unfinished", u)
			}
			// A reserved upload settles into the item: nothing stays reserved.
			res, err = svc.Reserve(ctx, owner, 500<<10, false)
			if err != nil {
				t.Fatal(err)
			}
			it, err := svc.UploadReserved(ctx, res, bytes.NewReader(randomBytes(400<<10)), "")
			if err != nil {
				t.Fatal(err)
			}
			if u, _ := svc.Usage(ctx, owner); u.Used != it.Size || u.Reserved != 1 {
				t.Errorf("usage after a settled upload: got %+v, want used %d, 1 byte reserved", u, it.Size)
			}
			// A failed reserved upload gives its bytes back.
			res, err = svc.Reserve(ctx, owner, 10, false)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.UploadReserved(ctx, res, bytes.NewReader(randomBytes(100)), ""); plaza.ErrorCode(err) != plaza.EInvalid {
				t.Errorf("an upload larger than its reservation: got %v, want invalid_request", err)
			}
			if u, _ := svc.Usage(ctx, owner); u.Reserved != 1 {
				t.Errorf("usage after a failed upload: got %+v, want 1 byte reserved", u)
			}
		})
	}
}
