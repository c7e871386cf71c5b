package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
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
