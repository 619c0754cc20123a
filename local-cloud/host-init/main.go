// host-init: the last step of a local-cloud host's start (local-cloud/host-files.ts). The init
// script has built the host's root and runs this, the controller's own static binary, from inside
// it. It pivots into that root, detaches the controller's filesystem, keeps only the capabilities
// a container has (every other one leaves the bounding set; the inheritable and ambient sets are
// emptied, so none comes back at exec), and only then runs the host's own /bin/sh with the start
// script. Until the controller's filesystem is gone, nothing of the host's runs: a shell or a tool
// the host replaced in its image's upper layer (its /usr/bin/env, its umount) would otherwise run
// as root with the controller's files still mounted at /.controller-root.
//
//	host-init -keep CAP,CAP,... START_SCRIPT   (run with the host's root as the working directory)
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// Linux's capability numbers (linux/capability.h), by the names setpriv and capabilities(7) use.
var capabilityNumbers = map[string]uintptr{
	"chown": 0, "dac_override": 1, "dac_read_search": 2, "fowner": 3, "fsetid": 4, "kill": 5,
	"setgid": 6, "setuid": 7, "setpcap": 8, "linux_immutable": 9, "net_bind_service": 10,
	"net_broadcast": 11, "net_admin": 12, "net_raw": 13, "ipc_lock": 14, "ipc_owner": 15,
	"sys_module": 16, "sys_rawio": 17, "sys_chroot": 18, "sys_ptrace": 19, "sys_pacct": 20,
	"sys_admin": 21, "sys_boot": 22, "sys_nice": 23, "sys_resource": 24, "sys_time": 25,
	"sys_tty_config": 26, "mknod": 27, "lease": 28, "audit_write": 29, "audit_control": 30,
	"setfcap": 31, "mac_override": 32, "mac_admin": 33, "syslog": 34, "wake_alarm": 35,
	"block_suspend": 36, "audit_read": 37, "perfmon": 38, "bpf": 39, "checkpoint_restore": 40,
}

const (
	prCapbsetDrop           = 24 // PR_CAPBSET_DROP
	prCapAmbient            = 47 // PR_CAP_AMBIENT
	prCapAmbientClearAll    = 4  // PR_CAP_AMBIENT_CLEAR_ALL
	linuxCapabilityVersion3 = 0x20080522
	oldRoot                 = ".controller-root"
)

type capabilityHeader struct {
	version uint32
	pid     int32
}

type capabilityData struct {
	effective, permitted, inheritable uint32
}

// lastCapability is the kernel's highest capability number: a capability newer than this program
// leaves the bounding set too.
func lastCapability() uintptr {
	text, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		fail("reading cap_last_cap: %v", err)
	}
	last, err := strconv.Atoi(strings.TrimSpace(string(text)))
	if err != nil || last < 0 || last > 63 {
		fail("cap_last_cap: %q", text)
	}
	return uintptr(last)
}

// emptyInheritable clears the inheritable set (capset(2)), which root's exec adds to the bounding set's.
func emptyInheritable() {
	header := capabilityHeader{version: linuxCapabilityVersion3}
	var data [2]capabilityData
	if _, _, errno := syscall.RawSyscall(syscall.SYS_CAPGET, uintptr(unsafe.Pointer(&header)), uintptr(unsafe.Pointer(&data[0])), 0); errno != 0 {
		fail("capget: %v", errno)
	}
	data[0].inheritable, data[1].inheritable = 0, 0
	if _, _, errno := syscall.RawSyscall(syscall.SYS_CAPSET, uintptr(unsafe.Pointer(&header)), uintptr(unsafe.Pointer(&data[0])), 0); errno != 0 {
		fail("capset: %v", errno)
	}
}

// The bounding set is a thread's own: the drops and the exec must happen on one thread.
func init() {
	runtime.LockOSThread()
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "host-init: "+format+"\n", args...)
	os.Exit(1)
}

func main() {
	keep := flag.String("keep", "", "the capabilities the host keeps, comma-separated; every other one goes")
	flag.Parse()
	if flag.NArg() != 1 {
		fail("usage: host-init -keep CAP,... START_SCRIPT")
	}
	start := flag.Arg(0)
	// Every name is checked before anything changes: a typo must not start a host at all.
	kept := map[uintptr]bool{}
	for _, name := range strings.Split(*keep, ",") {
		if name == "" {
			continue
		}
		number, known := capabilityNumbers[name]
		if !known {
			fail("unknown capability %q", name)
		}
		kept[number] = true
	}
	last := lastCapability()
	if err := syscall.PivotRoot(".", oldRoot); err != nil {
		fail("pivot_root: %v", err)
	}
	if err := syscall.Chdir("/"); err != nil {
		fail("chdir /: %v", err)
	}
	if err := syscall.Unmount("/"+oldRoot, syscall.MNT_DETACH); err != nil {
		fail("detaching the controller's filesystem: %v", err)
	}
	if err := syscall.Rmdir("/" + oldRoot); err != nil {
		fail("rmdir /%s: %v", oldRoot, err)
	}
	for capability := uintptr(0); capability <= last; capability++ {
		if kept[capability] {
			continue
		}
		if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prCapbsetDrop, capability, 0); errno != 0 {
			fail("dropping capability %d: %v", capability, errno)
		}
	}
	emptyInheritable()
	if _, _, errno := syscall.RawSyscall6(syscall.SYS_PRCTL, prCapAmbient, prCapAmbientClearAll, 0, 0, 0, 0); errno != 0 {
		fail("clearing the ambient capabilities: %v", errno)
	}
	environment := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"}
	if err := syscall.Exec("/bin/sh", []string{"sh", "-c", start}, environment); err != nil {
		fail("running the start script: %v", err)
	}
}
