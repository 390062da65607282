// SPDX-License-Identifier: GPL-2.0
//
// lxgo: what Go programs commonly do, as checks that print stable lines
// (no times, addresses, pids or host facts), so that a run inside lx and a
// native run of the same static binary must print the same thing.
// tests/t-go.c runs each check both ways and compares stdout and status.
//
//	lxgo CHECK...      run the named checks in order ("all": every one
//	                   but sigterm and crash, which end the program)
//	lxgo list          print the names of the checks
//	lxgo bench-http N  N net/http requests over 127.0.0.1, prints req/s
//
// A check that goes wrong prints a "FAIL" line and the program exits 1;
// one that cannot finish (a lost wake-up, no preemption) hangs, and the
// caller's timeout catches it.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// failed is set by fail(); main exits 1 when any check failed.
var failed bool

func fail(format string, args ...any) {
	failed = true
	fmt.Printf("FAIL "+format+"\n", args...)
}

// say prints one line of a check's output, prefixed with the check's name.
func say(check, format string, args ...any) {
	fmt.Printf(check+": "+format+"\n", args...)
}

// Goroutines, channels, sync.WaitGroup and sync.Mutex: results that do
// not depend on scheduling order, so a lost wake-up or a torn update
// shows as a wrong number (or a hang), never as a different ordering.
func checkGoroutines() {
	const n = 1000
	var wg sync.WaitGroup
	results := make(chan uint64, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// some work per goroutine: the sum of the first i squares
			var s uint64
			for k := uint64(1); k <= uint64(i); k++ {
				s += k * k
			}
			results <- s
		}(i)
	}
	wg.Wait()
	close(results)
	var total uint64
	for s := range results {
		total += s
	}
	say("goroutines", "%d goroutines, sum %d", n, total)

	// a ring of unbuffered channels: every hop is a hand-off between
	// two goroutines, the case where a missed futex wake hangs
	const ring, laps = 100, 200
	first := make(chan int)
	in := first
	for i := 0; i < ring; i++ {
		out := make(chan int)
		go func(in <-chan int, out chan<- int) {
			for v := range in {
				out <- v + 1
			}
			close(out)
		}(in, out)
		in = out
	}
	last := in
	v := 0
	for lap := 0; lap < laps; lap++ {
		first <- v
		v = <-last
	}
	close(first)
	<-last
	say("goroutines", "ring of %d, %d laps: %d", ring, laps, v)

	// a contended mutex on several threads
	prev := runtime.GOMAXPROCS(4)
	var mu sync.Mutex
	counter := 0
	var wg2 sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			for k := 0; k < 20000; k++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
		}()
	}
	wg2.Wait()
	runtime.GOMAXPROCS(prev)
	say("goroutines", "mutex counter %d", counter)

	// select with a timeout and context cancellation
	ctx, cancel := context.WithTimeout(context.Background(),
		20*time.Millisecond)
	defer cancel()
	never := make(chan int)
	select {
	case <-never:
		fail("goroutines: received from a channel nobody sends on")
	case <-ctx.Done():
		say("goroutines", "context: %v", ctx.Err())
	}
}

// node is a small linked structure, so that the collector has pointers
// to trace, not only flat byte slices.
type node struct {
	next *node
	val  [6]int64
}

// The collector under load: several goroutines allocate far more than
// stays live, while the live set is checked for corruption.  The
// MemStats relations printed hold on any correct run.
func checkGC() {
	prev := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(prev)
	debug.SetGCPercent(50)
	defer debug.SetGCPercent(100)

	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	const workers, rounds = 4, 200
	var wg sync.WaitGroup
	bad := int64(0)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// a live list the worker rebuilds piece by piece
			var keep [64]*node
			// the last few buffers stay reachable across rounds,
			// so they are heap garbage, not stack allocations;
			// each must still hold what was written into it
			var bufs [8][]byte
			var marks [8]byte
			for r := 0; r < rounds; r++ {
				// garbage: 256 KiB of slices per round
				for i := 0; i < 64; i++ {
					if old := bufs[i%8]; old != nil &&
						(old[0] != marks[i%8] ||
							old[4095] != ^marks[i%8]) {
						atomic.AddInt64(&bad, 1)
					}
					b := make([]byte, 4096)
					marks[i%8] = byte(r*64 + i)
					b[0], b[4095] = marks[i%8], ^marks[i%8]
					bufs[i%8] = b
				}
				// a new list of 100 nodes in one slot
				var head *node
				for i := 0; i < 100; i++ {
					head = &node{next: head}
					head.val[0] = int64(w*1000000 + r*100 + i)
				}
				keep[r%len(keep)] = head
				// check an older list is still whole
				old := keep[(r+1)%len(keep)]
				n := 0
				for p := old; p != nil; p = p.next {
					if p.next != nil &&
						p.next.val[0] != p.val[0]-1 {
						atomic.AddInt64(&bad, 1)
					}
					n++
				}
				if old != nil && n != 100 {
					atomic.AddInt64(&bad, 1)
				}
			}
			runtime.KeepAlive(&keep)
			runtime.KeepAlive(&bufs)
		}(w)
	}
	wg.Wait()

	// a finalizer runs after a collection finds its object dead
	done := make(chan bool, 1)
	func() {
		obj := new(node)
		runtime.SetFinalizer(obj, func(*node) { done <- true })
	}()
	finalized := false
	for i := 0; i < 50 && !finalized; i++ {
		runtime.GC()
		select {
		case <-done:
			finalized = true
		case <-time.After(20 * time.Millisecond):
		}
	}

	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	say("gc", "live data intact: %v", bad == 0)
	say("gc", "collections ran: %v", after.NumGC > before.NumGC+2)
	say("gc", "allocated over 200 MiB: %v",
		after.TotalAlloc-before.TotalAlloc > 200<<20)
	say("gc", "heap in use under 64 MiB: %v", after.HeapAlloc < 64<<20)
	say("gc", "mallocs >= frees: %v", after.Mallocs >= after.Frees)
	say("gc", "heap from the system: %v", after.HeapSys >= after.HeapInuse)
	say("gc", "finalizer ran: %v", finalized)

	// memory given back: FreeOSMemory madvises the heap's free spans
	debug.FreeOSMemory()
	var freed runtime.MemStats
	runtime.ReadMemStats(&freed)
	say("gc", "released to the system: %v", freed.HeapReleased > 0)
}

// checkGCPreempt: collections while a goroutine spins without calls;
// stopping the world needs that goroutine preempted asynchronously.
func checkGCPreempt() {
	prev := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(prev)
	var stop int32
	spinning := make(chan bool)
	go func() {
		close(spinning)
		spin(&stop)
	}()
	<-spinning
	for i := 0; i < 5; i++ {
		runtime.GC()
	}
	atomic.StoreInt32(&stop, 1)
	say("gc-preempt", "5 collections while a goroutine spins: ok")
}

// spin loops until *stop is set, with no call in the loop: the compiler
// puts no preemption check there, so only a signal (SIGURG) stops it.
//
//go:noinline
func spin(stop *int32) uint64 {
	var n uint64
	for atomic.LoadInt32(stop) == 0 {
		n++
	}
	return n
}

// Asynchronous preemption: on one P, a goroutine that spins without
// calls keeps the P until sysmon preempts it with SIGURG.  The main
// goroutine's Sleep can only end if that works (else this hangs).
func checkPreempt() {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	var stop int32
	started := make(chan bool)
	go func() {
		close(started)
		spin(&stop)
	}()
	<-started
	// the spinner now has the only P; ten preemptions in a row
	for i := 0; i < 10; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	atomic.StoreInt32(&stop, 1)
	say("preempt", "main goroutine ran beside a spinning one: ok")

	// several spinners and a goroutine that must get its turns
	var stop2 int32
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spin(&stop2)
		}()
	}
	turns := 0
	for turns < 20 {
		runtime.Gosched()
		time.Sleep(time.Millisecond)
		turns++
	}
	atomic.StoreInt32(&stop2, 1)
	wg.Wait()
	say("preempt", "3 spinners, %d turns of main: ok", turns)
}

// An HTTP server on 127.0.0.1:0 and clients: keep-alive requests,
// concurrent ones, fresh connections, a POST echo and a 404.
func checkHTTP() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("http: listen: %v", err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/square/", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/square/"))
		if err != nil {
			http.Error(w, "bad number", http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d", n*n)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		io.Copy(w, r.Body)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		// 1 MiB in pieces, so the body goes out in many segments
		piece := bytes.Repeat([]byte("0123456789abcdef"), 1024)
		for i := 0; i < 64; i++ {
			w.Write(piece)
		}
	})
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	base := "http://" + ln.Addr().String()

	get := func(c *http.Client, path string) (int, string, error) {
		resp, err := c.Get(base + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), err
	}

	// sequential requests on one kept-alive connection
	client := &http.Client{Timeout: 10 * time.Second}
	okCount := 0
	for i := 0; i < 200; i++ {
		code, body, err := get(client, "/square/"+strconv.Itoa(i))
		if err != nil || code != 200 || body != strconv.Itoa(i*i) {
			fail("http: GET /square/%d: %d %q %v", i, code, body, err)
			break
		}
		okCount++
	}
	say("http", "sequential GETs right: %d", okCount)

	// concurrent clients
	var wg sync.WaitGroup
	var right int64
	for g := 0; g < 10; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				n := g*100 + i
				code, body, err := get(client,
					"/square/"+strconv.Itoa(n))
				if err == nil && code == 200 &&
					body == strconv.Itoa(n*n) {
					atomic.AddInt64(&right, 1)
				}
			}
		}(g)
	}
	wg.Wait()
	say("http", "concurrent GETs right: %d", right)

	// a new connection per request (connect, accept, close)
	fresh := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true},
	}
	okCount = 0
	for i := 0; i < 20; i++ {
		code, body, err := get(fresh, "/square/"+strconv.Itoa(i))
		if err == nil && code == 200 && body == strconv.Itoa(i*i) {
			okCount++
		}
	}
	say("http", "GETs on fresh connections right: %d", okCount)

	// a POST whose body comes back
	payload := bytes.Repeat([]byte("lx-go-"), 50000)
	resp, err := client.Post(base+"/echo", "application/octet-stream",
		bytes.NewReader(payload))
	if err != nil {
		fail("http: POST: %v", err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		say("http", "POST of %d bytes echoed: %v", len(payload),
			bytes.Equal(b, payload))
	}

	code, body, err := get(client, "/big")
	say("http", "GET /big: %d, %d bytes, %v", code, len(body), err)
	code, _, err = get(client, "/no/such/page")
	say("http", "GET /no/such/page: %d %v", code, err)
	code, _, err = get(client, "/square/x")
	say("http", "GET /square/x: %d %v", code, err)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(ctx)
	say("http", "shutdown: %v", err)
	_, _, err = get(fresh, "/square/1")
	say("http", "GET after shutdown fails: %v", err != nil)
}

// Sockets without HTTP: a name from /etc/hosts (t-go writes it: Go's own
// resolver reads it), TCP with a half-close and a read deadline, UDP.
func checkNet() {
	addrs, err := net.LookupHost("localhost")
	say("net", "localhost: %v %v", addrs, err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail("net: listen: %v", err)
		return
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				// echo until the client's half-close, then close
				io.Copy(c, c)
				c.Close()
			}(c)
		}
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	c, err := net.Dial("tcp", "localhost:"+port)
	if err != nil {
		fail("net: dial localhost: %v", err)
		return
	}
	msg := bytes.Repeat([]byte("0123456789"), 100000)
	go func() {
		c.Write(msg)
		c.(*net.TCPConn).CloseWrite()
	}()
	back, err := io.ReadAll(c)
	say("net", "1 MB echoed over TCP, then EOF: %v %v",
		bytes.Equal(back, msg), err)
	c.Close()

	// a read deadline on a connection that never sends
	c2, err := net.Dial("tcp", ln.Addr().String())
	if err == nil {
		c2.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		_, err = c2.Read(make([]byte, 1))
		say("net", "TCP read past its deadline: %v",
			errors.Is(err, os.ErrDeadlineExceeded))
		c2.Close()
	} else {
		fail("net: dial: %v", err)
	}
	ln.Close()

	// UDP: datagrams keep their boundaries
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		fail("net: udp: %v", err)
		return
	}
	u, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		fail("net: dial udp: %v", err)
		return
	}
	sizes := []int{1, 100, 1400, 9000}
	for _, n := range sizes {
		u.Write(bytes.Repeat([]byte{'u'}, n))
	}
	got := []int{}
	buf := make([]byte, 65536)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	for range sizes {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			fail("net: udp read: %v", err)
			break
		}
		got = append(got, n)
		// and a reply to the sender's address
		pc.WriteTo(buf[:1], from)
	}
	say("net", "UDP datagrams: %v", got)
	u.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := u.Read(buf)
	say("net", "UDP reply: %d %v", n, err)
	u.Close()
	pc.Close()
}

// os/signal: signals sent to the process itself, by its main thread and
// by another, arrive on the channel; an ignored one does nothing; one
// cancels a NotifyContext.  (After Reset the default action is back: the
// "sigterm" check dies of it.)
func checkSignals() {
	c := make(chan os.Signal, 4)
	signal.Notify(c, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM)
	wait := func(want os.Signal) {
		select {
		case s := <-c:
			say("signal", "received %v: %v", want, s == want)
		case <-time.After(5 * time.Second):
			fail("signal: %v did not arrive", want)
		}
	}
	for _, s := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2,
		syscall.SIGTERM} {
		if err := syscall.Kill(os.Getpid(), s); err != nil {
			fail("signal: kill %v: %v", s, err)
			continue
		}
		wait(s)
	}
	// one signal from another thread, to a thread-group (tgkill is
	// the runtime's; kill the process's)
	go func() {
		runtime.LockOSThread()
		syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	}()
	wait(syscall.SIGUSR1)

	signal.Ignore(syscall.SIGHUP)
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	time.Sleep(10 * time.Millisecond)
	say("signal", "ignored SIGHUP: still here")

	// NotifyContext: cancellation by a signal
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT)
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case <-ctx.Done():
		say("signal", "SIGINT cancelled the context")
	case <-time.After(5 * time.Second):
		fail("signal: SIGINT did not cancel the context")
	}
	stop()
	signal.Stop(c)
}

// checkSigterm: a SIGTERM with no handler ends the process; the status
// (143) is compared by the caller.
func checkSigterm() {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM)
	signal.Reset(syscall.SIGTERM)
	say("sigterm", "sending SIGTERM to myself")
	os.Stdout.Sync()
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	time.Sleep(5 * time.Second)
	fail("sigterm: still alive")
}

// Timers: a Ticker, AfterFunc, Stop and Reset.  Only pass/fail, since
// how many ticks come in a given time depends on the machine.
func checkTimers() {
	t := time.NewTicker(10 * time.Millisecond)
	ticks := 0
	deadline := time.After(5 * time.Second)
loop:
	for ticks < 20 {
		select {
		case <-t.C:
			ticks++
		case <-deadline:
			break loop
		}
	}
	t.Stop()
	say("timers", "ticker: 20 ticks before the deadline: %v", ticks >= 20)

	fired := make(chan bool, 1)
	time.AfterFunc(15*time.Millisecond, func() { fired <- true })
	select {
	case <-fired:
		say("timers", "AfterFunc fired")
	case <-time.After(5 * time.Second):
		fail("timers: AfterFunc did not fire")
	}

	stopped := time.NewTimer(time.Hour)
	say("timers", "Stop of a pending timer: %v", stopped.Stop())
	r := time.NewTimer(time.Hour)
	r.Reset(10 * time.Millisecond)
	select {
	case <-r.C:
		say("timers", "Reset timer fired")
	case <-time.After(5 * time.Second):
		fail("timers: Reset timer did not fire")
	}

	// monotonic time: a sleep takes at least its time, and not hours
	start := time.Now()
	time.Sleep(20 * time.Millisecond)
	el := time.Since(start)
	say("timers", "sleep 20ms took >= 20ms and < 5s: %v",
		el >= 20*time.Millisecond && el < 5*time.Second)
	say("timers", "wall clock after 2020: %v", time.Now().Year() > 2020)
}

// Files and process facts: a file written under /tmp and read back, a
// directory listing, a file of the root (t-go writes /etc/lxgo.txt), a
// pipe between goroutines through the poller, a unix socket, random
// bytes.
func checkFiles() {
	dir, err := os.MkdirTemp("/tmp", "lxgo")
	if err != nil {
		fail("files: MkdirTemp: %v", err)
		return
	}
	defer os.RemoveAll(dir)
	data := []byte(strings.Repeat("lx runs Go\n", 1000))
	for _, name := range []string{"c", "a", "b"} {
		if err := os.WriteFile(dir+"/"+name, data, 0644); err != nil {
			fail("files: WriteFile: %v", err)
			return
		}
	}
	back, err := os.ReadFile(dir + "/a")
	say("files", "read back %d bytes, same: %v %v", len(back),
		bytes.Equal(back, data), err)
	ents, err := os.ReadDir(dir)
	names := []string{}
	for _, e := range ents {
		names = append(names, e.Name())
	}
	say("files", "ReadDir: %v %v", names, err)
	st, err := os.Stat(dir + "/b")
	if err == nil {
		say("files", "Stat: size %d, mode %v", st.Size(), st.Mode())
	} else {
		fail("files: Stat: %v", err)
	}
	_, err = os.Stat(dir + "/nothing")
	say("files", "Stat of a missing file: not exist %v",
		errors.Is(err, os.ErrNotExist))
	if err := os.Rename(dir+"/c", dir+"/d"); err != nil {
		fail("files: Rename: %v", err)
	}
	etc, err := os.ReadFile("/etc/lxgo.txt")
	say("files", "/etc/lxgo.txt: %q %v", string(etc), err)

	// a pipe: the reader blocks in the poller (epoll) until written
	r, w, err := os.Pipe()
	if err != nil {
		fail("files: Pipe: %v", err)
		return
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		w.Write([]byte("through a pipe"))
		w.Close()
	}()
	got, err := io.ReadAll(r)
	r.Close()
	say("files", "pipe: %q %v", string(got), err)
	// a read deadline on a pipe nobody writes
	r2, w2, _ := os.Pipe()
	r2.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	_, err = r2.Read(make([]byte, 1))
	say("files", "pipe read past its deadline: %v",
		errors.Is(err, os.ErrDeadlineExceeded))
	r2.Close()
	w2.Close()

	// a unix stream socket
	sock := dir + "/sock"
	ln, err := net.Listen("unix", sock)
	if err != nil {
		fail("files: listen unix: %v", err)
		return
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	c, err := net.Dial("unix", sock)
	if err == nil {
		c.Write([]byte("unix hello"))
		buf := make([]byte, 10)
		_, err = io.ReadFull(c, buf)
		say("files", "unix socket echo: %q %v", string(buf), err)
		c.Close()
	} else {
		fail("files: dial unix: %v", err)
	}
	ln.Close()

	say("files", "pid > 1: %v, ppid > 0: %v", os.Getpid() > 1,
		os.Getppid() > 0)
	wd, err := os.Getwd()
	say("files", "cwd: %s %v", wd, err)
	host, err := os.Hostname()
	say("files", "hostname known: %v %v", host != "", err)
	exe, err := os.Executable()
	say("files", "executable: %s %v", exe, err)
	// getrandom: never blocks in lx (its RNG is seeded at boot)
	rnd := make([]byte, 32)
	n, err := rand.Read(rnd)
	say("files", "crypto/rand: %d bytes %v", n, err)
}

// A nil dereference is a SIGSEGV that the runtime turns into a panic;
// recover() catches it.  Also a slice bound and a map of many entries.
func checkPanics() {
	try := func(f func()) (msg string) {
		defer func() {
			if r := recover(); r != nil {
				msg = fmt.Sprint(r)
			}
		}()
		f()
		return "no panic"
	}
	var p *node
	say("panics", "nil pointer: %s", try(func() { p.val[3] = 1 }))
	s := []int{1, 2, 3}
	i := 5
	say("panics", "index: %s", try(func() { s[i] = 0 }))
	say("panics", "custom: %s", try(func() { panic("lx") }))
	// a deep recursion grows the goroutine stack many times
	var depth func(n int) int
	depth = func(n int) int {
		var pad [64]byte
		pad[n%64] = byte(n)
		if n == 0 {
			return int(pad[0])
		}
		return depth(n-1) + int(pad[n%64]&1)
	}
	say("panics", "recursion 100000 deep: %d", depth(100000))

	m := map[int]string{}
	for k := 0; k < 100000; k++ {
		m[k] = strconv.Itoa(k)
	}
	keys := make([]int, 0, 10)
	for k := range m {
		if k%10000 == 0 {
			keys = append(keys, k)
		}
	}
	sort.Ints(keys)
	say("panics", "map of %d, keys %v", len(m), keys)
}

// checkCrash: an unrecovered nil dereference ends the program with
// status 2 (the runtime's traceback goes to stderr).
func checkCrash() {
	say("crash", "dereferencing nil")
	os.Stdout.Sync()
	var p *node
	p.val[1] = 1
}

// benchHTTP: n GET requests from 4 kept-alive clients to a server in the
// same process, over 127.0.0.1; prints the rate.  Not a check: its
// output differs from run to run.
func benchHTTP(n int) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	body := []byte("hello from lx\n")
	srv := &http.Server{Handler: http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) { w.Write(body) })}
	go srv.Serve(ln)
	url := "http://" + ln.Addr().String() + "/"
	const clients = 4
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	client := &http.Client{Transport: tr}
	get := func() error {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return err
	}
	// warm-up: connections made, code paths rewritten
	for i := 0; i < 100; i++ {
		if err := get(); err != nil {
			fmt.Fprintln(os.Stderr, "GET:", err)
			os.Exit(1)
		}
	}
	var left int64 = int64(n)
	var errs int64
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&left, -1) >= 0 {
				if get() != nil {
					atomic.AddInt64(&errs, 1)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	srv.Close()
	if errs > 0 {
		fmt.Fprintf(os.Stderr, "%d requests failed\n", errs)
		os.Exit(1)
	}
	fmt.Printf("requests %d\n", n)
	fmt.Printf("seconds %.3f\n", el.Seconds())
	fmt.Printf("req/s %.0f\n", float64(n)/el.Seconds())
}

var checks = []struct {
	name string
	fn   func()
}{
	{"goroutines", checkGoroutines},
	{"gc", checkGC},
	{"gc-preempt", checkGCPreempt},
	{"preempt", checkPreempt},
	{"http", checkHTTP},
	{"net", checkNet},
	{"signal", checkSignals},
	{"timers", checkTimers},
	{"files", checkFiles},
	{"panics", checkPanics},
	// these two end the program, so "all" leaves them out
	{"sigterm", checkSigterm},
	{"crash", checkCrash},
}

func main() {
	args := os.Args[1:]
	if len(args) == 2 && args[0] == "bench-http" {
		n, err := strconv.Atoi(args[1])
		if err != nil || n <= 0 {
			fmt.Fprintln(os.Stderr, "usage: lxgo bench-http N")
			os.Exit(2)
		}
		benchHTTP(n)
		return
	}
	if len(args) == 1 && args[0] == "list" {
		for _, c := range checks {
			fmt.Println(c.name)
		}
		return
	}
	if len(args) == 1 && args[0] == "all" {
		args = nil
		for _, c := range checks {
			if c.name != "sigterm" && c.name != "crash" {
				args = append(args, c.name)
			}
		}
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr,
			"usage: lxgo CHECK... | all | list | bench-http N")
		os.Exit(2)
	}
	for _, a := range args {
		found := false
		for _, c := range checks {
			if c.name == a {
				c.fn()
				found = true
			}
		}
		if !found {
			fmt.Fprintf(os.Stderr, "lxgo: no check %q\n", a)
			os.Exit(2)
		}
	}
	if failed {
		os.Exit(1)
	}
	say("lxgo", "done")
}
