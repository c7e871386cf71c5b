package proc

import (
	"reflect"
	"testing"
)

func TestParseLocks(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []FileLock
	}{
		{"empty", "", nil},
		{"flock holder", "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1835010 0 EOF\n",
			[]FileLock{{Kind: "FLOCK", PID: 4242, Major: 0xfd, Minor: 1, Inode: 1835010}}},
		{"hex device, decimal inode", "7: FLOCK  ADVISORY  WRITE 10 103:1a:99 0 EOF",
			[]FileLock{{Kind: "FLOCK", PID: 10, Major: 0x103, Minor: 0x1a, Inode: 99}}},
		{"waiter", "1: FLOCK  ADVISORY  WRITE 4242 08:01:5 0 EOF\n1: -> FLOCK  ADVISORY  WRITE 4343 08:01:5 0 EOF\n",
			[]FileLock{
				{Kind: "FLOCK", PID: 4242, Major: 8, Minor: 1, Inode: 5},
				{Kind: "FLOCK", Blocked: true, PID: 4343, Major: 8, Minor: 1, Inode: 5},
			}},
		{"indented waiter of a newer kernel", " 2: -> POSIX  ADVISORY  READ 55 00:2a:77 0 EOF",
			[]FileLock{{Kind: "POSIX", Blocked: true, PID: 55, Major: 0, Minor: 0x2a, Inode: 77}}},
		{"OFD lock without a PID", "3: OFDLCK ADVISORY  READ  -1 00:05:1 0 EOF",
			[]FileLock{{Kind: "OFDLCK", PID: -1, Major: 0, Minor: 5, Inode: 1}}},
		{"lease", "4: LEASE  ACTIVE    READ 2000 08:02:12 0 EOF",
			[]FileLock{{Kind: "LEASE", PID: 2000, Major: 8, Minor: 2, Inode: 12}}},
		{"garbage lines skipped", "nonsense\n5: FLOCK ADVISORY WRITE notapid 08:01:5 0 EOF\n" +
			"6: FLOCK ADVISORY WRITE 9 08:01 0 EOF\n7: FLOCK ADVISORY WRITE 9 zz:01:5 0 EOF\n" +
			"8: FLOCK ADVISORY WRITE 9 08:01:-5 0 EOF\n9: ->\n10: FLOCK ADVISORY WRITE 11 08:01:6 0 EOF",
			[]FileLock{{Kind: "FLOCK", PID: 11, Major: 8, Minor: 1, Inode: 6}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseLocks([]byte(tc.in)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseLocks(%q)\n got %+v\nwant %+v", tc.in, got, tc.want)
			}
		})
	}
}
