package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Floor of a channel post's fan-out, below any server (see
// BenchmarkLoopbackFanout).
const (
	floorFollowers = 5000
	floorFrame     = 400 // bytes, about a channel.post frame
)

// BenchmarkLoopbackFanout measures what a channel post to 5,000 connected
// followers costs this machine below any server, the way plaza bench
// --channel runs it: a second process (the "server") writes one 400-byte
// WebSocket frame to each of 5,000 loopback TCP sockets, spread over
// GOMAXPROCS goroutines, and this process reads the sockets on the same
// cores. It reads them two ways: reader=goroutines with a goroutine per
// socket, as the load generator did until 2026-12-06, and reader=epoll
// with the generator's pollSet, as it does now. Each iteration is one
// post. last-arrival-ms is the median, over the iterations, of the time
// from the first write to the kernel's receive time of the last frame:
// what plaza bench reports as publish → last delivery, less the request
// before the fan-out. writer-cpu-ms and reader-cpu-ms are each process's
// CPU per post.
func BenchmarkLoopbackFanout(b *testing.B) {
	if !stampsHere(b) {
		b.Skip("the kernel does not stamp received bytes here")
	}
	b.Run("reader=goroutines", func(b *testing.B) { loopbackFanout(b, readFloorGoroutine) })
	b.Run("reader=epoll", func(b *testing.B) {
		var ps pollSet
		defer ps.close()
		loopbackFanout(b, func(b *testing.B, c net.Conn, note func(at int64, frames int)) {
			ws := &wsConn{c: c, r: bufio.NewReaderSize(c, 16<<10), seed: 1}
			if err := ps.add(ws, func(_ []byte, at, _ time.Time) bool {
				note(at.UnixNano(), 1)
				return true
			}); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// readFloorGoroutine reads c with a goroutine of its own, noting each
// whole frame.
func readFloorGoroutine(b *testing.B, c net.Conn, note func(at int64, frames int)) {
	r := newStampedReader(c)
	if r == nil {
		b.Fatal("the kernel does not stamp received bytes on this socket")
	}
	go func() {
		buf := make([]byte, 4096)
		pending := 0 // bytes of a frame not yet whole
		for {
			n, err := r.Read(buf)
			if err != nil {
				return
			}
			at := time.Now().UnixNano()
			if t, ok := r.arrived(); ok {
				at = t.UnixNano()
			}
			frames := 0
			for pending += n; pending >= floorFrame; pending -= floorFrame {
				frames++
			}
			note(at, frames)
		}
	}()
}

// loopbackFanout runs the benchmark with read starting each socket's
// reader, which calls note with the arrival of what it read and the
// number of whole frames in it.
func loopbackFanout(b *testing.B, read func(b *testing.B, c net.Conn, note func(at int64, frames int))) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoopbackFanoutWriter$", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), "PLAZA_FANOUT_WRITER=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		in.Close()
		_ = cmd.Process.Kill() // it may still be waiting for followers
		_ = cmd.Wait()
	}()
	out := bufio.NewReader(outPipe)
	addr, err := out.ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	var last int64       // newest arrival of the current post, Unix nanoseconds
	var got atomic.Int64 // whole frames read, over all the posts
	note := func(at int64, frames int) {
		mu.Lock()
		last = max(last, at)
		mu.Unlock()
		got.Add(int64(frames))
	}
	for range floorFollowers {
		c, err := net.Dial("tcp", addr[:len(addr)-1])
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		read(b, c, note)
	}
	var lasts []float64
	// CPU is counted in ticks of 10 ms: over all the posts, not per post.
	var writerCPU, readerCPU time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		time.Sleep(100 * time.Millisecond) // the previous post settles
		mu.Lock()
		last = 0
		mu.Unlock()
		w0, r0 := ProcessCPU(cmd.Process.Pid), ProcessCPU(0)
		b.StartTimer()
		if _, err := in.Write([]byte{'p'}); err != nil {
			b.Fatal(err)
		}
		var stamp [8]byte
		if _, err := io.ReadFull(out, stamp[:]); err != nil {
			b.Fatal(err)
		}
		want := int64(i+1) * floorFollowers
		if err := waitFor(context.Background(), 30*time.Second, func() bool { return got.Load() >= want }); err != nil {
			b.Fatalf("not every follower had the frame: %v", err)
		}
		b.StopTimer()
		start := int64(binary.LittleEndian.Uint64(stamp[:]))
		mu.Lock()
		lasts = append(lasts, float64(last-start)/1e6)
		mu.Unlock()
		writerCPU += ProcessCPU(cmd.Process.Pid) - w0
		readerCPU += ProcessCPU(0) - r0
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(lasts)
	b.ReportMetric(lasts[len(lasts)/2], "last-arrival-ms")
	b.ReportMetric(float64(writerCPU)/1e6/float64(b.N), "writer-cpu-ms")
	b.ReportMetric(float64(readerCPU)/1e6/float64(b.N), "reader-cpu-ms")
}

// stampsHere reports whether this machine's kernel stamps what a
// loopback socket receives.
func stampsHere(b *testing.B) bool {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	return newStampedReader(c) != nil
}

// TestLoopbackFanoutWriter is BenchmarkLoopbackFanout's second process;
// run alone it does nothing. It prints its address, accepts the
// followers, and for each byte read from stdin writes a frame to every
// follower, after printing when it started (8 bytes, Unix nanoseconds).
func TestLoopbackFanoutWriter(t *testing.T) {
	if os.Getenv("PLAZA_FANOUT_WRITER") != "1" {
		t.Skip("the writer process of BenchmarkLoopbackFanout")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(ln.Addr())
	conns := make([]net.Conn, 0, floorFollowers)
	for len(conns) < floorFollowers {
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	frame := serverFrame(true, 0x1, make([]byte, floorFrame-4)) // 4: the header of a 16-bit length
	workers := runtime.GOMAXPROCS(0)
	cmd := make([]byte, 1)
	for {
		if _, err := os.Stdin.Read(cmd); err != nil {
			return // the benchmark is done
		}
		start := time.Now()
		os.Stdout.Write(binary.LittleEndian.AppendUint64(nil, uint64(start.UnixNano())))
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(conns); i += workers {
					if _, err := conns[i].Write(frame); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
}
