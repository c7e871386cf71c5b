package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func usage(msg string) error { return &usageError{errors.New(msg)} }

// noArgs rejects positional arguments as bad usage (exit 2).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &usageError{fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)}
	}
	return nil
}

// exactArgs wants exactly n positional arguments; msg says what they are.
func exactArgs(n int, msg string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usage(msg)
		}
		return nil
	}
}

// maxArgs wants at most n positional arguments.
func maxArgs(n int, msg string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usage(msg)
		}
		return nil
	}
}

// flagError turns pflag's errors about a flag into a sentence that says
// what to type instead; all of them are bad usage (exit 2).
func flagError(cmd *cobra.Command, err error) error {
	var invalid *pflag.InvalidValueError
	var unknown *pflag.NotExistError
	var missing *pflag.ValueRequiredError
	switch {
	case errors.As(err, &invalid):
		f, v := invalid.GetFlag(), invalid.GetValue()
		switch f.Value.Type() {
		case "duration":
			if _, perr := strconv.ParseFloat(v, 64); perr == nil {
				return usage(fmt.Sprintf("--%s %s has no unit; use a unit, e.g. %ss (or ms, m, h)", f.Name, v, v))
			}
			return usage(fmt.Sprintf("--%s %q is not a duration; use a number with a unit, e.g. 5s, 500ms or 2m", f.Name, v))
		case "int":
			return usage(fmt.Sprintf("--%s %q is not a whole number", f.Name, v))
		case "bool":
			return usage(fmt.Sprintf("--%s=%s: a switch is on with --%s and off with --%s=false", f.Name, v, f.Name, f.Name))
		}
		return usage(fmt.Sprintf("--%s %q: %v", f.Name, v, errors.Unwrap(err)))
	case errors.As(err, &unknown):
		name := "--" + unknown.GetSpecifiedName()
		if unknown.GetSpecifiedShortnames() != "" {
			name = "-" + unknown.GetSpecifiedName()
		}
		return usage(fmt.Sprintf("%s has no flag %s%s", cmd.CommandPath(), name, dashHint(cmd)))
	case errors.As(err, &missing):
		name := "--" + missing.GetSpecifiedName()
		if missing.GetSpecifiedShortnames() != "" {
			name = "-" + missing.GetSpecifiedName()
		}
		return usage(fmt.Sprintf("%s needs a value", name))
	}
	if hint := dashHint(cmd); hint != "" && strings.HasPrefix(err.Error(), "bad flag syntax") {
		return usage(err.Error() + hint)
	}
	return &usageError{err}
}

// dashHint is, for the commands that take words (a memory's text, a
// question), how to give words that start with "-": such words are read
// as flags.
func dashHint(cmd *cobra.Command) string {
	switch cmd.Name() {
	case "remember", "recall":
		return fmt.Sprintf("; words that start with '-' are read as flags, so put -- before them: %s -- '-x is a flag'", cmd.CommandPath())
	}
	return ""
}
