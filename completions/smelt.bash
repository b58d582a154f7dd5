# bash completion for smelt(1).
# Installed as /usr/share/bash-completion/completions/smelt; to try it from a
# checkout: `source completions/smelt.bash`.
#
# Everything is read from the smelt being completed, so the completion never
# drifts from the binary: the options (global and per command, with the
# argument each takes) from `smelt help --options`, the option tables the
# CLI parses with; commands from `smelt --help`, a command's subcommands
# from the usage lines of `smelt CMD --help`; and names
# from the current project: environments, jobs and schedules from their
# `list --format json` commands, adapters from `smelt adapters list --format
# json`, and plugin names from the project file's `plugins:` block (smelt has
# no command that lists a project's plugins yet).
# Help texts and the option table are cached for the shell session; project
# names are not.

# The help of the smelt in $1, or of its command $2; cached.
_smelt_help()
{
	local key="${1}|${2:-}" text
	if [[ -z "${_smelt_help_cache[$key]+set}" ]]; then
		if [[ -n "${2:-}" ]]; then
			text=$("$1" "$2" --help 2>/dev/null)
		else
			text=$("$1" --help 2>/dev/null)
		fi
		_smelt_help_cache[$key]=$text
	fi
	printf '%s\n' "${_smelt_help_cache[$key]}"
}
declare -gA _smelt_help_cache 2>/dev/null || declare -A _smelt_help_cache

# The command names listed under 'Commands:' in `smelt --help`.
_smelt_commands()
{
	_smelt_help "$1" | awk '/^Commands:/ { f = 1; next } /^$/ { f = 0 } f { print $1 }'
}

# The option table of the smelt in $1: lines "CMD<TAB>OPTION<TAB>ARG<TAB>FLAGS<TAB>HELP"
# (CMD empty for a global option); cached.
_smelt_table()
{
	local key="${1}|--options"
	if [[ -z "${_smelt_help_cache[$key]+set}" ]]; then
		_smelt_help_cache[$key]=$("$1" help --options 2>/dev/null)
	fi
	printf '%s\n' "${_smelt_help_cache[$key]}"
}

# The options of command $2 ('' for the global ones) that are shown in help.
_smelt_options()
{
	_smelt_table "$1" | awk -F '\t' -v c="${2:-}" '$1 == c && $4 !~ /hidden/ { print $2 }'
	printf '%s\n' --help -h
}

# The argument option $3 of command $2 takes, e.g. 'text|json' for '--format'
# or 'DIR' for '--cwd' ('FILE' for 'FILE|-'); nothing for a flag.
_smelt_option_arg()
{
	_smelt_table "$1" | awk -F '\t' -v c="${2:-}" -v o="$3" '$1 == c && $2 == o { sub(/\|-$/, "", $3); print $3; exit }'
}

# The help line of option $3 of command $2.
_smelt_option_text()
{
	_smelt_table "$1" | awk -F '\t' -v c="${2:-}" -v o="$3" '$1 == c && $2 == o { print $5; exit }'
}

# The subcommands of a command: the first lowercase word after 'smelt CMD'
# (or a|b|c alternatives) in its usage lines.
_smelt_subcommands()
{
	# only the usage lines at the top (the examples at the end also start with 'smelt CMD')
	_smelt_help "$1" "$2" | awk -v c="$2" '
	/^$/ { done = 1 }
	!done && /^(usage: )? *smelt / {
		sub(/^(usage: )? *smelt /, "")
		if ($1 != c)
			next
		for (i = 2; i <= NF; i++) {
			if ($i ~ /^\[/ || $i ~ /^-/)
				continue
			if ($i ~ /^[a-z][a-z|]*$/) {
				n = split($i, w, "|")
				for (j = 1; j <= n; j++)
					print w[j]
			}
			break
		}
	}' | sort -u
}

# String values of KEY at nesting DEPTH of the JSON on stdin (objects and
# arrays both count); enough for smelt's own listings.
_smelt_json_names()
{
	awk -v key="$1" -v want="$2" '
	{ buf = buf $0 "\n" }
	END {
		depth = 0; n = length(buf); last = ""
		for (i = 1; i <= n; i++) {
			ch = substr(buf, i, 1)
			if (ch == "\"") {
				s = ""
				for (i++; i <= n && (c = substr(buf, i, 1)) != "\""; i++) {
					if (c == "\\") { i++; c = substr(buf, i, 1) }
					s = s c
				}
				if (expect && depth == want && last == key)
					print s
				expect = 0; last = s
				continue
			}
			if (ch == "{" || ch == "[") depth++
			else if (ch == "}" || ch == "]") depth--
			else if (ch == ":") { expect = 1; continue }
			else if (ch == ",") last = ""
			if (ch !~ /[ \t\n]/) expect = 0
		}
	}'
}

# The plugin names in the `plugins:` block of the project file found from
# the folder $1 upward (or at $SMELT_PROJECT_ROOT / $MELTANO_PROJECT_ROOT).
_smelt_plugins()
{
	local dir="${SMELT_PROJECT_ROOT:-${MELTANO_PROJECT_ROOT:-$1}}" f
	while [[ -n "$dir" ]]; do
		for f in "$dir/smelt.yml" "$dir/meltano.yml"; do
			if [[ -f "$f" ]]; then
				awk '
				/^[^ #-]/ { inplugins = ($0 ~ /^plugins:/); next }
				inplugins && /^[ -]*name:/ {
					sub(/^[ -]*name: */, ""); sub(/ +#.*$/, ""); gsub(/["\047]/, "")
					print
				}' "$f"
				return
			fi
		done
		[[ "$dir" == / ]] && return
		dir=$(dirname -- "$dir")
	done
}

# Names listed by a smelt command (run in the project of --cwd, if given).
_smelt_listing()
{
	local smelt="$1" cwd="$2" key="$3" depth="$4"
	shift 4
	if [[ -n "$cwd" ]]; then
		"$smelt" --cwd "$cwd" "$@" --format json 2>/dev/null | _smelt_json_names "$key" "$depth"
	else
		"$smelt" "$@" --format json 2>/dev/null | _smelt_json_names "$key" "$depth"
	fi
}

# Words for the value of option $3 of command $2 ('' for a global option).
_smelt_option_values()
{
	local smelt="$1" cmd="$2" opt="$3" cwd="$4" arg text
	arg=$(_smelt_option_arg "$smelt" "$cmd" "$opt")
	case "$arg" in
	DIR) compgen -d -- "$cur"; return ;;
	PATH | FILE*) compgen -f -- "$cur"; return ;;
	*'|'*) printf '%s\n' "${arg//|/$'\n'}"; return ;;
	TYPE) printf '%s\n' extractors loaders mappers transformers orchestrators utilities files; return ;;
	esac
	case "$opt" in
	--environment) _smelt_listing "$smelt" "$cwd" name 3 environment list; return ;;
	--adapter) _smelt_listing "$smelt" "$cwd" name 3 adapters list; return ;;
	--inherit-from) _smelt_plugins "${cwd:-$PWD}"; return ;;
	--job) _smelt_listing "$smelt" "$cwd" job_name 3 job list; return ;;
	--schedule) _smelt_listing "$smelt" "$cwd" name 4 schedule list; return ;;
	esac
	# Else a list in the description: 'debug, info, warning or disabled'.
	text=$(_smelt_option_text "$smelt" "$cmd" "$opt")
	text=${text%% (*}
	text=${text//,/ }
	text=${text// or / }
	if [[ -n "$text" && "$text" =~ ^[a-z\ ]+$ ]]; then
		# shellcheck disable=SC2086 # split on purpose: only letters and spaces (checked above)
		printf '%s\n' $text
	fi
}

# Words for the positional argument after 'smelt CMD [SUB]'.
_smelt_positional()
{
	local smelt="$1" cmd="$2" sub="$3" npos="$4" cwd="$5" subs
	subs=$(_smelt_subcommands "$smelt" "$cmd")
	if [[ -n "$subs" && -z "$sub" ]]; then
		printf '%s\n' "$subs"
		# 'smelt config PLUGIN list' is the other order.
		[[ "$cmd" == config ]] && { echo smelt; _smelt_plugins "${cwd:-$PWD}"; }
		return
	fi
	case "$cmd:$sub" in
	init:*) compgen -d -- "$cur" ;;
	add:*)
		[[ "$npos" == 0 ]] && printf '%s\n' extractor loader mapper transformer orchestrator utility file ;;
	remove:* | install:* | lock:* | invoke:* | test:* | config:*) _smelt_plugins "${cwd:-$PWD}" ;;
	select:*) [[ "$npos" == 0 ]] && _smelt_plugins "${cwd:-$PWD}" ;;
	run:*)
		_smelt_plugins "${cwd:-$PWD}"
		_smelt_listing "$smelt" "$cwd" job_name 3 job list ;;
	job:set | job:remove | job:list) [[ "$npos" == 0 ]] && _smelt_listing "$smelt" "$cwd" job_name 3 job list ;;
	schedule:set | schedule:remove | schedule:run)
		[[ "$npos" == 0 ]] && _smelt_listing "$smelt" "$cwd" name 4 schedule list ;;
	environment:remove) _smelt_listing "$smelt" "$cwd" name 3 environment list ;;
	state:get | state:set | state:merge | state:clear | state:copy | state:move | state:edit)
		_smelt_listing "$smelt" "$cwd" state_id 3 state list ;;
	esac
}

_smelt()
{
	local cur="${COMP_WORDS[COMP_CWORD]}" prev="" smelt="${COMP_WORDS[0]}"
	local cmd="" sub="" cwd="" npos=0 i w takes
	COMPREPLY=()
	# A word typed as ~/bin/smelt reaches us unexpanded.
	# shellcheck disable=SC2088
	[[ "$smelt" == "~/"* ]] && smelt="$HOME/${smelt#"~/"}"
	smelt=$(type -P -- "$smelt") || return 0
	(( COMP_CWORD > 0 )) && prev="${COMP_WORDS[COMP_CWORD - 1]}"

	# Walk the words before the cursor: global options, the command, its
	# subcommand, then positional words; options that take a value skip it.
	for (( i = 1; i < COMP_CWORD; i++ )); do
		w="${COMP_WORDS[i]}"
		if [[ "$w" == -* ]]; then
			takes=$(_smelt_option_arg "$smelt" "$cmd" "$w")
			if [[ -n "$takes" && "$w" != *=* ]]; then
				(( i + 1 < COMP_CWORD )) && [[ -z "$cmd" && "$w" == --cwd ]] && cwd="${COMP_WORDS[i + 1]}"
				(( i++ ))
			fi
		elif [[ -z "$cmd" ]]; then
			cmd="$w"
		elif [[ -z "$sub" && -n "$(_smelt_subcommands "$smelt" "$cmd")" ]] &&
		     _smelt_subcommands "$smelt" "$cmd" | grep -qxF -- "$w"; then
			sub="$w"
		else
			(( npos++ ))
		fi
	done
	# shellcheck disable=SC2088
	[[ "$cwd" == "~/"* ]] && cwd="$HOME/${cwd#"~/"}"

	local words
	if [[ "$prev" == -* && "$prev" != *=* && -n "$(_smelt_option_arg "$smelt" "$cmd" "$prev")" ]]; then
		words=$(_smelt_option_values "$smelt" "$cmd" "$prev" "$cwd")
	elif [[ "$cur" == -* ]]; then
		words=$(_smelt_options "$smelt" "$cmd")
	elif [[ -z "$cmd" ]]; then
		words=$(_smelt_commands "$smelt")
	else
		words=$(_smelt_positional "$smelt" "$cmd" "$sub" "$npos" "$cwd")
	fi
	local IFS=$'\n'
	mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
}
complete -o default -F _smelt smelt
