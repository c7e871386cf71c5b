package update

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is a parsed semantic version (semver.org 2.0.0). Build metadata
// is kept for printing but, as the spec says, takes no part in ordering.
type Version struct {
	Major, Minor, Patch uint64
	Pre                 []string // dot-separated prerelease identifiers; nil for a release
	Build               string
}

// IsPrerelease reports whether v has a prerelease part (1.2.0-rc.1,
// 0.2.0-dev.3.abc).
func (v Version) IsPrerelease() bool { return len(v.Pre) > 0 }

func (v Version) String() string {
	s := fmt.Sprintf("v%d.%d.%d", v.Major, v.Minor, v.Patch)
	if len(v.Pre) > 0 {
		s += "-" + strings.Join(v.Pre, ".")
	}
	if v.Build != "" {
		s += "+" + v.Build
	}
	return s
}

// ParseVersion reads a version the way release tags are written: an
// optional leading "v", then exactly MAJOR.MINOR.PATCH, an optional
// -prerelease and an optional +build, all by the semver 2.0.0 grammar.
// Everything else is refused: "1.2" (no shorthand), "01.2.3" (leading
// zero), "1.2.3-" (empty identifier), "V1.2.3", spaces, "latest".
func ParseVersion(s string) (Version, error) {
	bad := func(why string) (Version, error) {
		return Version{}, fmt.Errorf("%q is not a semantic version (vMAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]): %s", s, why)
	}
	rest := strings.TrimPrefix(s, "v")
	if rest == "" {
		return bad("empty")
	}
	rest, build, hasBuild := strings.Cut(rest, "+")
	if hasBuild {
		if err := checkIdentifiers(build, false); err != nil {
			return bad("build metadata " + err.Error())
		}
	}
	core, pre, hasPre := strings.Cut(rest, "-")
	nums := strings.Split(core, ".")
	if len(nums) != 3 {
		return bad("want three numbers separated by dots")
	}
	var v Version
	for i, p := range []*uint64{&v.Major, &v.Minor, &v.Patch} {
		n, err := numeric(nums[i])
		if err != nil {
			return bad(err.Error())
		}
		*p = n
	}
	if hasPre {
		if err := checkIdentifiers(pre, true); err != nil {
			return bad("prerelease " + err.Error())
		}
		v.Pre = strings.Split(pre, ".")
	}
	v.Build = build
	return v, nil
}

// numeric parses a numeric identifier: digits only, no leading zero.
func numeric(s string) (uint64, error) {
	if s == "" {
		return 0, fmt.Errorf("empty number")
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%q is not a number", s)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%q has a leading zero", s)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n, nil
}

// checkIdentifiers checks dot-separated identifiers of [0-9A-Za-z-];
// in a prerelease, numeric ones may not have leading zeros.
func checkIdentifiers(s string, pre bool) error {
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return fmt.Errorf("has an empty identifier")
		}
		digits := true
		for _, r := range id {
			switch {
			case r >= '0' && r <= '9':
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-':
				digits = false
			default:
				return fmt.Errorf("%q holds %q (only letters, digits and '-' are allowed)", id, r)
			}
		}
		if pre && digits && len(id) > 1 && id[0] == '0' {
			return fmt.Errorf("%q has a leading zero", id)
		}
	}
	return nil
}

// Compare orders a and b by semver precedence: -1, 0 or +1. A release
// ranks above its prereleases (1.2.0 > 1.2.0-rc.1); prerelease
// identifiers compare numerically when both are numbers, as text
// otherwise, numbers below text, and a longer list above its prefix.
func Compare(a, b Version) int {
	for _, d := range [][2]uint64{{a.Major, b.Major}, {a.Minor, b.Minor}, {a.Patch, b.Patch}} {
		if d[0] != d[1] {
			if d[0] < d[1] {
				return -1
			}
			return 1
		}
	}
	switch {
	case len(a.Pre) == 0 && len(b.Pre) == 0:
		return 0
	case len(a.Pre) == 0:
		return 1
	case len(b.Pre) == 0:
		return -1
	}
	for i := 0; i < len(a.Pre) && i < len(b.Pre); i++ {
		if c := compareIdentifier(a.Pre[i], b.Pre[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(a.Pre) < len(b.Pre):
		return -1
	case len(a.Pre) > len(b.Pre):
		return 1
	}
	return 0
}

func compareIdentifier(x, y string) int {
	xNum, yNum := isDigits(x), isDigits(y)
	switch {
	case xNum && yNum:
		// No leading zeros (ParseVersion refuses them), so the longer
		// number is the larger, however many digits it has.
		if len(x) != len(y) {
			if len(x) < len(y) {
				return -1
			}
			return 1
		}
		return strings.Compare(x, y)
	case xNum:
		return -1
	case yNum:
		return 1
	}
	return strings.Compare(x, y)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
