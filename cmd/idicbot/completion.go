package main

import (
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// printBashCompletion writes a bash completion script for every command
// and its flags, made from the command table so it never falls behind:
//
//	source <(idicbot completion bash)
func printBashCompletion(w io.Writer) {
	var names []string
	var cases strings.Builder
	for i := range commands {
		c := &commands[i]
		names = append(names, c.name)
		var flags []string
		// A Main of its own: binding flags resets the variables they bind.
		(&Main{}).flagSet(c).VisitAll(func(f *flag.Flag) { flags = append(flags, "--"+f.Name) })
		sort.Strings(flags)
		words := flags
		switch c.name {
		case "import":
			words = append([]string{"customers", "orders"}, words...)
		case "offers":
			words = append([]string{"export", "import"}, words...)
		case "customer":
			words = append([]string{"export", "erase"}, words...)
		case "completion":
			words = []string{"bash"}
		}
		fmt.Fprintf(&cases, "    %s) words=%q ;;\n", c.name, strings.Join(words, " "))
	}
	commandNames := strings.Join(names, " ")
	names = append(names, "help")
	fmt.Fprintf(w, `# bash completion for idicbot: source <(idicbot completion bash)
_idicbot() {
  local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]} words
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W %q -- "$cur"))
    return
  fi
  case "$cmd" in
%s    help) words=%q ;;
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
  # Files for the arguments that name one.
  if [ ${#COMPREPLY[@]} -eq 0 ]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _idicbot idicbot
`, strings.Join(names, " "), cases.String(), commandNames)
}
