// promql-metrics reads a JSON array of PromQL expressions on stdin and prints, as JSON, the metric
// names each one selects, parsed by Prometheus's own parser. The tests use it to check that every
// alert and dashboard query names only metrics the project exports (or a documented standard one).
// A syntax error, or a selector without a metric name, is reported with the expression's index
// and exits 1.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

func main() {
	var expressions []string
	if err := json.NewDecoder(os.Stdin).Decode(&expressions); err != nil {
		fmt.Fprintf(os.Stderr, "promql-metrics: stdin must be a JSON array of PromQL expressions: %v\n", err)
		os.Exit(2)
	}
	promql := parser.NewParser(parser.Options{})
	names := make([][]string, len(expressions))
	failed := false
	for i, input := range expressions {
		found, err := metricNames(promql, input)
		if err != nil {
			fmt.Fprintf(os.Stderr, "expression %d %q: %v\n", i, input, err)
			failed = true
			continue
		}
		names[i] = found
	}
	if failed {
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(names); err != nil {
		fmt.Fprintf(os.Stderr, "promql-metrics: %v\n", err)
		os.Exit(2)
	}
}

// metricNames lists, sorted and without repeats, the metric names the expression's selectors name.
func metricNames(promql parser.Parser, input string) ([]string, error) {
	expr, err := promql.ParseExpr(input)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var unnamed error
	parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
		selector, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := selector.Name
		for _, m := range selector.LabelMatchers {
			if name == "" && m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" {
			unnamed = fmt.Errorf("the selector %s names no metric", selector.String())
			return unnamed
		}
		seen[name] = true
		return nil
	})
	if unnamed != nil {
		return nil, unnamed
	}
	found := make([]string, 0, len(seen))
	for name := range seen {
		found = append(found, name)
	}
	sort.Strings(found)
	return found, nil
}
