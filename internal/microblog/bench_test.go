package microblog

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaza-im/plaza"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// The benchmarks seed millions of rows; they run only when
// PLAZA_BENCH_MICROBLOG is set, on SQLite and, with PLAZA_TEST_POSTGRES,
// on PostgreSQL:
//
//	PLAZA_BENCH_MICROBLOG=1 PLAZA_TEST_POSTGRES=postgres://… \
//	    go test -run '^$' -bench . -benchtime 2000x -count 3 -timeout 3h ./internal/microblog/
const benchEnv = "PLAZA_BENCH_MICROBLOG"

func benchGate(b *testing.B) {
	b.Helper()
	if os.Getenv(benchEnv) == "" {
		b.Skipf("set %s=1 to run the microblog benchmarks (they seed millions of rows)", benchEnv)
	}
}

// seeder writes rows straight into the tables in multi-row statements:
// the fastest way to millions of accounts, follows and posts. Values are
// numbers and fixed words, written into the SQL text.
type seeder struct {
	tb testing.TB
	db *sqldb.DB
}

// rows inserts n rows into table, 1,000 per statement, row(i) giving
// each row's values.
func (s seeder) rows(table, columns string, n int, row func(i int) string) {
	s.tb.Helper()
	const chunk = 1000
	for start := 0; start < n; start += chunk {
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + columns + ") VALUES ")
		for i := start; i < min(n, start+chunk); i++ {
			if i > start {
				b.WriteString(", ")
			}
			b.WriteString("(" + row(i) + ")")
		}
		if _, err := s.db.Write().ExecContext(context.Background(), b.String()); err != nil {
			s.tb.Fatalf("seed %s: %v", table, err)
		}
	}
}

// accounts creates n bare accounts and returns their IDs.
func (s seeder) accounts(n int) []plaza.ID {
	ids := make([]plaza.ID, n)
	for i := range ids {
		ids[i] = plaza.NewID()
	}
	s.rows("accounts", "id, handle, display_name, password_hash, birth_date, status, status_reason, created_at, updated_at", n, func(i int) string {
		return fmt.Sprintf("%d, 'b%d', 'B', 'x', '1990-01-01', 'active', '', 0, 0", ids[i], ids[i])
	})
	return ids
}

// follows makes every follower follow followee and sets the followee's
// follower count, marking it above the fan-out threshold when it is.
func (s seeder) follows(followers []plaza.ID, followee plaza.ID, threshold int64) {
	s.rows("follows", "follower_id, followee_id, id, created_at", len(followers), func(i int) string {
		return fmt.Sprintf("%d, %d, %d, 0", followers[i], followee, plaza.NewID())
	})
	celeb := 0
	if int64(len(followers)) >= threshold {
		celeb = 1
	}
	if _, err := s.db.Write().ExecContext(context.Background(), `INSERT INTO microblog_stats (account_id, follower_count, following_count, post_count, celebrity)
		VALUES ($1, $2, 0, 0, $3) ON CONFLICT (account_id) DO UPDATE SET follower_count = microblog_stats.follower_count + excluded.follower_count,
		celebrity = excluded.celebrity`, followee, len(followers), celeb); err != nil {
		s.tb.Fatal(err)
	}
}

// posts writes published public posts, authors[i%len] writing the i-th,
// in ID order, and returns their IDs.
func (s seeder) posts(authors []plaza.ID, n int) []plaza.ID {
	ids := make([]plaza.ID, n)
	for i := range ids {
		ids[i] = plaza.NewID()
	}
	s.rows("posts", `author_id, id, text, media_ids, visibility, reply_to, repost_of, category, status, reason, decided_by,
		hashtags, mentions, like_count, reply_count, repost_count, created_at, published_at`, n, func(i int) string {
		return fmt.Sprintf("%d, %d, 'seeded post number %d with some words', '[]', 'public', NULL, NULL, 'general', 'published', '', '', '[]', '[]', 0, 0, 0, %d, %d",
			authors[i%len(authors)], ids[i], i, plaza.IDTime(ids[i]).UnixMicro(), plaza.IDTime(ids[i]).UnixMicro())
	})
	return ids
}

// benchService returns a service on a fresh database of engine e with
// the fan-out worker stopped and no rate limits or verification.
func benchService(b *testing.B, e sqldb.Engine) *env {
	b.Helper()
	return newEnv(b, sqldbtest.Open(b, e), envOptions{users: 1, noWorker: true})
}

// BenchmarkPublish measures Create for an author with 1,000 and with
// 1,000,000 followers (the fan-out worker stopped: this is what the
// author waits for). It must not grow with the followers: below the
// threshold publishing queues one fan-out job, above it nothing.
func BenchmarkPublish(b *testing.B) {
	benchGate(b)
	for _, e := range sqldbtest.Engines() {
		for _, n := range []int{1_000, 1_000_000} {
			b.Run(fmt.Sprintf("%s/followers=%d", e, n), func(b *testing.B) {
				env := benchService(b, e)
				sd := seeder{b, env.db}
				author := env.user(0)
				sd.follows(sd.accounts(n), author, env.svc.cfg.FanoutThreshold)
				ctx := context.Background()
				var lat []time.Duration
				b.ResetTimer()
				i := 0
				for b.Loop() {
					i++
					t0 := time.Now()
					if _, err := env.svc.Create(ctx, author, PostInput{Text: fmt.Sprintf("post %d #bench", i)}); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t0))
				}
				reportLatency(b, lat)
			})
		}
	}
}

// BenchmarkTimeline measures the first page (20 posts) of the home
// timeline and a page deep in it, for a reader following 1,000 accounts,
// 2 of them with 1,000,000 followers, among 1,000,000 posts; 998 of the
// followed authors are fanned out (their posts are in the reader's
// timeline rows), the 2 are merged at read time.
func BenchmarkTimeline(b *testing.B) {
	benchGate(b)
	for _, e := range sqldbtest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			env := benchService(b, e)
			sd := seeder{b, env.db}
			ctx := context.Background()
			reader := env.user(0)
			t0 := time.Now()
			crowd := sd.accounts(1_000_000)
			// 10,000 authors write 100 posts each: 1,000,000 posts.
			authors := crowd[:10_000]
			followed := authors[:998]
			celebs := crowd[10_000:10_002]
			for _, c := range celebs {
				sd.follows(append(slices.Clone(crowd[:999_999]), reader), c, env.svc.cfg.FanoutThreshold)
			}
			for _, a := range followed {
				sd.follows([]plaza.ID{reader}, a, env.svc.cfg.FanoutThreshold)
			}
			posts := sd.posts(append(slices.Clone(authors), celebs...), 1_000_000)
			// The reader's timeline rows: the posts of the 998 fanned-out
			// authors it follows.
			isFollowed := map[plaza.ID]bool{}
			for _, a := range followed {
				isFollowed[a] = true
			}
			all := append(slices.Clone(authors), celebs...)
			var mine []plaza.ID
			var mineAuthors []plaza.ID
			for i, p := range posts {
				if a := all[i%len(all)]; isFollowed[a] {
					mine, mineAuthors = append(mine, p), append(mineAuthors, a)
				}
			}
			sd.rows("timeline", "account_id, post_id, author_id", len(mine), func(i int) string {
				return fmt.Sprintf("%d, %d, %d", reader, mine[i], mineAuthors[i])
			})
			if e == sqldb.Postgres {
				if _, err := env.db.Write().ExecContext(ctx, `ANALYZE`); err != nil {
					b.Fatal(err)
				}
			}
			b.Logf("%s: seeded 1,000,000 accounts, 2,000,998 follows, 1,000,000 posts and %d timeline rows in %v",
				e, len(mine), time.Since(t0).Round(time.Second))
			deep := posts[len(posts)/2]
			for _, c := range []struct {
				name   string
				cursor plaza.ID
			}{{"first-page", 0}, {"deep-page", deep}} {
				b.Run(c.name, func(b *testing.B) {
					var lat []time.Duration
					for b.Loop() {
						t0 := time.Now()
						page, err := env.svc.Timeline(ctx, reader, c.cursor, 20)
						if err != nil {
							b.Fatal(err)
						}
						lat = append(lat, time.Since(t0))
						if len(page.Posts) != 20 {
							b.Fatalf("page of %d posts, want 20", len(page.Posts))
						}
					}
					reportLatency(b, lat)
				})
			}
		})
	}
}

// BenchmarkSustainedPublishing has 64 authors, each with 10 followers,
// publish as fast as they can, with the fan-out worker running; it
// reports posts/s and, once the fan-out caught up, timeline rows/s.
func BenchmarkSustainedPublishing(b *testing.B) {
	benchGate(b)
	for _, e := range sqldbtest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			env := benchService(b, e)
			sd := seeder{b, env.db}
			const writers = 64
			authors := sd.accounts(writers)
			readers := sd.accounts(writers * 10)
			for i, a := range authors {
				sd.follows(readers[i*10:(i+1)*10], a, env.svc.cfg.FanoutThreshold)
			}
			env.startWorker(b)
			ctx := context.Background()
			var next atomic.Int64
			total := int64(b.N)
			b.ResetTimer()
			t0 := time.Now()
			var wg sync.WaitGroup
			for w := 0; w < writers; w++ {
				wg.Go(func() {
					for next.Add(1) <= total {
						if _, err := env.svc.Create(ctx, authors[w], PostInput{Text: "steady #stream"}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			published := time.Since(t0)
			env.drain(b)
			fanned := time.Since(t0)
			b.StopTimer()
			b.ReportMetric(float64(b.N)/published.Seconds(), "posts/s")
			b.ReportMetric(float64(b.N*10)/fanned.Seconds(), "timeline-rows/s")
		})
	}
}

// reportLatency reports the median and 99th percentile of lat in ms.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}
