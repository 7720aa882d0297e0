//go:build linux

// Command labd holds the small servers and probes of the ucprobe network
// namespace lab (scripts/lab.sh). Standard library only, Linux only.
//
//	labd wss --listen ADDR --cert C --key K [--refuse-upgrade]
//	labd vpn server --listen ADDR:PORT --tun NAME [--allow-udp]
//	labd vpn client --connect ADDR:PORT --tun NAME [--allow-udp]
//	labd standin --udp RANGES --tcp PORTS --http ADDR   (stand-in for `ucprobe serve`)
//	labd probe tcp|udp ADDR:PORT [--timeout D]          (prints one error class)
//	labd stun [--timeout D] SERVER...                    (mapped address per server, one socket)
//	labd turn --server ADDR:PORT --user U --pass P [--tcp] [--timeout D]
//	labd ctflush                                        (flush this namespace's conntrack table)
//	labd delay --a IF --b IF --delay D --jitter J        (userspace bridge delaying every frame)
//
// Every server stops by itself after --lifetime (default 2h) so a lab that
// is never torn down does not run forever.
package main

import (
	"fmt"
	"log"
	"os"
	"time"
)

func usage() {
	fmt.Fprintln(os.Stderr, `usage: labd wss|vpn|standin|probe|stun|turn|ctflush|delay ...
  labd wss --listen ADDR:443 --cert C --key K [--refuse-upgrade]
  labd vpn server --listen ADDR:PORT --tun NAME [--allow-udp]
  labd vpn client --connect ADDR:PORT --tun NAME [--allow-udp]
  labd standin --udp 30000-33000,3478 --tcp 2230,7222 --http :8480
  labd probe tcp|udp ADDR:PORT [--timeout 1s]
  labd stun [--timeout 1s] HOST:PORT...
  labd turn --server HOST:PORT --user U --pass P [--tcp] [--timeout 2s]
  labd ctflush
  labd delay --a IF --b IF --delay 50ms --jitter 250ms`)
	os.Exit(2)
}

func main() {
	log.SetFlags(log.LstdFlags | log.Lmicroseconds)
	log.SetPrefix("labd: ")
	if len(os.Args) < 2 {
		usage()
	}
	args := os.Args[2:]
	var err error
	switch os.Args[1] {
	case "wss":
		err = cmdWSS(args)
	case "vpn":
		err = cmdVPN(args)
	case "standin":
		err = cmdStandin(args)
	case "probe":
		os.Exit(cmdProbe(args))
	case "stun":
		os.Exit(cmdSTUN(args))
	case "turn":
		os.Exit(cmdTURN(args))
	case "ctflush":
		err = ctFlush()
	case "delay":
		err = cmdDelay(args)
	case "nooffload":
		err = cmdNoOffload(args)
	default:
		usage()
	}
	if err != nil {
		log.Print(err)
		os.Exit(1)
	}
}

// stopAfter ends the process after d (0: never): lab servers stop by themselves.
func stopAfter(d time.Duration) {
	if d <= 0 {
		return
	}
	time.AfterFunc(d, func() {
		log.Printf("lifetime %s reached, exiting", d)
		os.Exit(0)
	})
}
