package emulator

import (
	"net"
	"strconv"
)

// ServedHost is the host:port a client can dial to reach an emulator
// listening on listen. The unspecified address (0.0.0.0, [::]: every
// interface) is no address to dial, so it is replaced with the machine's
// first non-loopback unicast address (IPv4 first), or loopback when there
// is none.
func ServedHost(listen net.Addr) string {
	tcp, ok := listen.(*net.TCPAddr)
	if !ok || (tcp.IP != nil && !tcp.IP.IsUnspecified()) {
		return listen.String()
	}
	ip := interfaceIP()
	if ip == nil {
		ip = net.IPv4(127, 0, 0, 1)
		if tcp.IP != nil && tcp.IP.To4() == nil {
			ip = net.IPv6loopback // [::]: maybe IPv6 only
		}
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}

// interfaceIP is the first global unicast address of an interface that is
// up, IPv4 before IPv6; nil when there is none.
func interfaceIP() net.IP {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var v6 net.IP
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			n, ok := a.(*net.IPNet)
			if !ok || !n.IP.IsGlobalUnicast() {
				continue
			}
			if n.IP.To4() != nil {
				return n.IP
			}
			if v6 == nil {
				v6 = n.IP
			}
		}
	}
	return v6
}
