#!/bin/bash
# Static checks of the firmware sources: cppcheck, then clang-tidy (.clang-tidy)
# once for the host and once for the Cortex-M target. Run by `make test-static`.
#
#   tools/static_check.sh [--cpu='<-mcpu=... flags>'] <source.c>... -- <compiler flags>
#
# The flags are the firmware build's include paths and -D settings (the
# Makefile passes $(INCLUDES) $(BOARD_DEFS) $(SETTINGS)); --cpu is the
# board's CPU flags, $(BOARD_CPU) (default -mcpu=cortex-m3). Every finding fails the run (exit 1);
# each check prints its findings as file:line: ... lines.
#
# cppcheck: --enable=warning,style,performance,portability, the target's
# type sizes (arm32 platform), C11; suppressions only inline in the source
# (// cppcheck-suppress <id> with the reason next to it).
# clang-tidy: the checks and their reasons are in .clang-tidy.
#
# Env: CPPCHECK (default cppcheck), CLANG_TIDY (default clang-tidy-14, else
# clang-tidy), ARM_SYSROOT_INC (newlib headers, default
# /usr/lib/arm-none-eabi/include).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2

cpu=-mcpu=cortex-m3
srcs=()
while (($#)); do
    case $1 in
    --cpu=*) cpu=${1#--cpu=}; shift ;;
    --) shift; break ;;
    -*) echo "static_check.sh: unknown option $1" >&2; exit 2 ;;
    *) srcs+=("$1"); shift ;;
    esac
done
flags=("$@")
if ((${#srcs[@]} == 0)); then
    echo "usage: $0 [--cpu=-mcpu=...] <source.c>... -- <compiler flags>" >&2
    exit 2
fi

CPPCHECK=${CPPCHECK:-cppcheck}
if [[ -z ${CLANG_TIDY:-} ]]; then
    CLANG_TIDY=$(command -v clang-tidy-14 || command -v clang-tidy || echo clang-tidy)
fi
ARM_INC=${ARM_SYSROOT_INC:-/usr/lib/arm-none-eabi/include}
for tool in "$CPPCHECK" "$CLANG_TIDY"; do
    command -v "$tool" >/dev/null || { echo "static_check.sh: $tool not installed (make deps)" >&2; exit 2; }
done

# cppcheck takes only -I and -D (and -U) of the compiler flags.
cpp_flags=()
for f in "${flags[@]}"; do
    case $f in -I* | -D* | -U*) cpp_flags+=("$f") ;; esac
done

fail=0
echo "== cppcheck (${#srcs[@]} files)"
if ! "$CPPCHECK" --quiet --std=c11 --platform=arm32-wchar_t4 \
    --enable=warning,style,performance,portability --inline-suppr --error-exitcode=1 \
    --template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
    "${cpp_flags[@]}" "${srcs[@]}" 2>&1; then
    echo "cppcheck: FAILED"
    fail=1
fi

tidy() { # $1: label, rest: compiler flags
    local label=$1 out rc
    shift
    echo "== clang-tidy ($label)"
    out=$("$CLANG_TIDY" --quiet "${srcs[@]}" -- -std=c11 -ffreestanding "$@" "${flags[@]}" 2>&1)
    rc=$?
    # Only the findings (with their source lines), not the "N warnings generated" chatter.
    grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^Error while processing' <<<"$out" | sed '/^$/d'
    if ((rc != 0)); then
        echo "clang-tidy ($label): FAILED"
        fail=1
    fi
}
tidy host
read -r -a cpu_flags <<<"$cpu"
tidy "arm-none-eabi $cpu" --target=arm-none-eabi "${cpu_flags[@]}" -mthumb -isystem "$ARM_INC"

if ((fail)); then
    echo "static checks: FAILED"
else
    echo "static checks: clean"
fi
exit $fail
