package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v3"
)

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, the Go runtime and the protocol libraries",
		Action: func(_ context.Context, cmd *cli.Command) error {
			w := cmd.Root().Writer
			fmt.Fprintf(w, "ucprobe %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, d := range bi.Deps {
					if strings.HasPrefix(d.Path, "github.com/pion/") || strings.HasPrefix(d.Path, "github.com/urfave/cli") {
						fmt.Fprintf(w, "  %s %s\n", d.Path, d.Version)
					}
				}
			}
			return nil
		},
	}
}
