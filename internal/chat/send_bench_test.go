package chat

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"testing"

	"github.com/plaza-im/plaza/internal/plazatest"
	"github.com/plaza-im/plaza/internal/sqldb"
	"github.com/plaza-im/plaza/internal/sqldb/sqldbtest"
)

// BenchmarkSendOne measures a direct message sent alone, its commit
// included: the writer's cost per message at a steady rate, where nearly
// every batch holds one send. On SQLite it also counts the process's
// write system calls per send (from /proc/self/io): SQLite writes two
// per page a commit changes, so they show how many pages a message
// touches; the background checkpointer's copies are in it too. It also
// reports the process's CPU and the goroutines it started per send: on
// an otherwise idle machine a goroutine started may wake an idle core.
func BenchmarkSendOne(b *testing.B) {
	for _, eng := range sqldbtest.Engines() {
		b.Run(string(eng), func(b *testing.B) {
			db := sqldbtest.Open(b, eng)
			e := newEnv(b, db)
			ann, bob := e.account(b, "ann"), e.account(b, "bob")
			conv := e.direct(b, ann, bob)
			for i := range 100 { // warm the caches and the log
				e.send(b, ann, conv.ID, "预热 warm "+strconv.Itoa(i))
			}
			before, ok := writeCalls()
			g0, counted := plazatest.GoroutinesCreated()
			cpu0 := processCPU()
			for i := 0; b.Loop(); i++ { // b.Loop times only the loop
				e.send(b, ann, conv.ID, "今天下午三点见 see you at three "+strconv.Itoa(i))
			}
			if g1, _ := plazatest.GoroutinesCreated(); counted {
				b.ReportMetric(float64(g1-g0)/float64(b.N), "goroutines/send")
			}
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/send")
			if after, ok2 := writeCalls(); ok && ok2 && eng == sqldb.SQLite {
				b.ReportMetric(float64(after-before)/float64(b.N), "writes/send")
			}
		})
	}
}

// writeCalls returns the write system calls this process has made.
func writeCalls() (int64, bool) {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := bytes.CutPrefix(s.Bytes(), []byte("syscw: ")); ok {
			n, err := strconv.ParseInt(string(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
