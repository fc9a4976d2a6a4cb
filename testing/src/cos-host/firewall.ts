/**
 * The host firewall a Container-Optimized OS VM boots with, as `iptables-save`
 * text: "allows outgoing connections and accepts incoming connections only
 * through the SSH service" (Google, "Configuring the host firewall"); the exact
 * rules are what `sudo iptables -S` shows on cos-stable as far as we know
 * (docs/GOOGLE-BEHAVIOURS.md: a first deployment checks them).
 */
export const COS_DEFAULT_IPTABLES = `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT DROP [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT
-A OUTPUT -m state --state NEW,RELATED,ESTABLISHED -j ACCEPT
-A OUTPUT -o lo -j ACCEPT
COMMIT
`;
