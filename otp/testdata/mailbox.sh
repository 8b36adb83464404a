#!/bin/sh
# Test mailbox: prints a code chosen by the username's local part, so each
# test exercises one behaviour of otp.Exec.
user="$1"
[ "$user" = "$CIAMCHECK_OTP_USERNAME" ] || { echo "username mismatch" >&2; exit 3; }
[ -n "$CIAMCHECK_OTP_SINCE" ] || { echo "no since" >&2; exit 4; }
case "$user" in
  ok@*)      echo " 12345678 " ;;
  short@*)   echo "1234" ;;
  letters@*) echo "12ab5678" ;;
  fail@*)    echo "mailbox 98765432 unreachable" >&2; exit 2 ;;
  slow@*)    sleep 5; echo "12345678" ;;
  late@*)
    # Empty output twice, then the code: Exec must retry.
    n=$(cat "$STATE" 2>/dev/null || echo 0); n=$((n+1)); echo "$n" > "$STATE"
    if [ "$n" -ge 3 ]; then echo "87654321"; fi ;;
  *';'*)     echo "semicolon reached the shell" >&2; exit 5 ;;
  *)         echo "11112222" ;;
esac
