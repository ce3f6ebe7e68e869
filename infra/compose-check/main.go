// compose-check loads a Compose file with Compose's own loader (compose-go, the library Docker
// Compose uses), every profile enabled and the environment applied, and checks that each service
// has a health check. No Docker engine is needed. Exit 0 prints the services; exit 1 names the
// problem. Usage: compose-check [file] (default docker-compose.yml).
package main

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	file := "docker-compose.yml"
	if len(os.Args) > 1 {
		file = os.Args[1]
	}
	if err := check(file); err != nil {
		fmt.Fprintf(os.Stderr, "compose-check: %s: %v\n", file, err)
		os.Exit(1)
	}
}

func check(file string) error {
	opts, err := cli.NewProjectOptions([]string{file},
		cli.WithOsEnv, cli.WithDotEnv, cli.WithProfiles([]string{"*"}))
	if err != nil {
		return err
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		return err
	}
	names := project.ServiceNames()
	sort.Strings(names)
	for _, name := range names {
		hc := project.Services[name].HealthCheck
		if hc == nil || hc.Disable || len(hc.Test) == 0 {
			return fmt.Errorf("service %q has no health check", name)
		}
	}
	fmt.Printf("%s: project %q, services %v, each with a health check\n", file, project.Name, names)
	return nil
}
