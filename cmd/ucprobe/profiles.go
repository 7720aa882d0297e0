package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/urfave/cli/v3"

	"github.com/ucprobe/ucprobe/profiles"
)

func profilesCommand() *cli.Command {
	return &cli.Command{
		Name:  "profiles",
		Usage: "list, show and validate vendor profiles",
		Description: `Examples:
  ucprobe profiles list
  ucprobe profiles show xphone > my-xphone.yaml    # start your own from a built-in one
  ucprobe profiles validate ./my-xphone.yaml
  ucprobe run --profile ./my-xphone.yaml --server HOST`,
		Action: func(_ context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() > 0 {
				return unknownCommand(cmd, cmd.Args().First())
			}
			return cli.ShowSubcommandHelp(cmd)
		},
		Commands: []*cli.Command{
			{
				Name:  "list",
				Usage: "list the built-in profiles: id, product, what they check",
				Action: func(_ context.Context, cmd *cli.Command) error {
					all, err := profiles.List()
					if err != nil {
						return err
					}
					tw := tabwriter.NewWriter(cmd.Root().Writer, 0, 0, 2, ' ', 0)
					fmt.Fprintln(tw, "ID\tPRODUCT\tPURPOSE")
					for _, p := range all {
						fmt.Fprintf(tw, "%s\t%s\t%s\n", p.ID, p.Product, p.Purpose)
					}
					return tw.Flush()
				},
			},
			{
				Name:      "show",
				Usage:     "print a profile's YAML (built-in id or a file)",
				ArgsUsage: "ID|PATH",
				Action: func(_ context.Context, cmd *cli.Command) error {
					if cmd.Args().Len() != 1 {
						return usagef("profiles show: give one profile id or path (see 'ucprobe profiles list')")
					}
					p, err := profiles.Load(cmd.Args().First())
					if err != nil {
						return usageError{err}
					}
					fmt.Fprintf(cmd.Root().Writer, "# %s (from %s)\n", p.ID, p.File)
					_, err = cmd.Root().Writer.Write(p.Raw)
					return err
				},
			},
			{
				Name:      "validate",
				Usage:     "check a profile file strictly: unknown keys, types, ports, variables (file:line errors)",
				ArgsUsage: "PATH",
				Action: func(_ context.Context, cmd *cli.Command) error {
					if cmd.Args().Len() != 1 {
						return usagef("profiles validate: give one profile path")
					}
					p, err := profiles.Load(cmd.Args().First())
					if err != nil {
						return usageError{err}
					}
					fmt.Fprintf(cmd.Root().Writer, "%s: ok (profile %s, %d checks, variables: %v)\n", p.File, p.ID, len(p.Checks), p.VariableNames())
					return nil
				},
			},
		},
	}
}
