const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * C `ctime()` without its trailing newline, in the process's local time zone, as OpenSIPS prints MI dates:
 * `Www Mmm dd hh:mm:ss yyyy`, day padded with a space. 0 is the epoch ("Thu Jan  1 00:00:00 1970" in UTC).
 */
export function ctime(unixSec: number): string {
  const d = new Date(Math.trunc(unixSec) * 1000);
  const day = d.getDate();
  return (
    `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${day < 10 ? ` ${day}` : day} ` +
    `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())} ${d.getFullYear()}`
  );
}
