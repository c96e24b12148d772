//! What the device layer throws away: every datagram or frame that never
//! reaches the engine, or never leaves, because of the link, is counted
//! where it is dropped.

/// Declares [`DeviceCounters`] from one list, so the fields, their names
/// and the merge cannot drift apart: a new counter is one entry here.
macro_rules! device_counters {
    ($( $(#[doc = $doc:literal])* $field:ident => $name:literal, )*) => {
        /// Datagrams and frames a device dropped, by reason. The names are
        /// Linux's where Linux counts the same thing (interface statistics
        /// as `ip -s -s link` shows them, neighbour-table statistics as `ip
        /// -s ntable` does), in the CamelCase of synack's other counters.
        /// A device that wraps another ([`Ethernet`](super::Ethernet),
        /// [`Pcap`](super::Pcap)) reports its own counts merged with its
        /// link's.
        #[derive(Clone, Debug, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct DeviceCounters {
            $( $(#[doc = $doc])* pub $field: u64, )*
        }

        impl DeviceCounters {
            /// Every counter as (name, value), in a stable order.
            pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> {
                [$(($name, self.$field)),*].into_iter()
            }

            /// Adds `other`'s counts to these.
            pub fn merge(&mut self, other: &DeviceCounters) {
                $( self.$field += other.$field; )*
            }
        }
    };
}

device_counters! {
    /// Writes the device refused because its queue was full (EAGAIN or
    /// ENOBUFS): the datagram is lost as on a busy link, and TCP
    /// retransmits (Linux: tx_dropped). Also the link layer's own ARP and
    /// neighbor-discovery messages, and datagrams released after address
    /// resolution, that could not be written for any reason: nobody is
    /// left to hear of their failure.
    tx_dropped => "TxDropped",
    /// Frames of a length the link cannot carry: shorter than an Ethernet
    /// header, or a read that filled a buffer larger than the MTU, so the
    /// frame was longer still and arrived cut short (Linux:
    /// rx_length_errors).
    rx_length_errors => "RxLengthErrors",
    /// Unicast frames addressed to another station's MAC address (Linux:
    /// rx_otherhost_dropped).
    rx_otherhost_dropped => "RxOtherhostDropped",
    /// Frames of an EtherType other than IPv4, IPv6 and ARP (Linux:
    /// rx_nohandler).
    rx_nohandler => "RxNohandler",
    /// ARP packets that are not Ethernet/IPv4 or are cut short.
    arp_in_errors => "ArpInErrors",
    /// Neighbor-discovery messages that failed RFC 4861's validity checks
    /// (7.1.1, 7.1.2: hop limit 255, code 0, length, checksum, options,
    /// target).
    ndisc_in_errors => "NdiscInErrors",
    /// Valid neighbor-discovery messages a host that does not route has no
    /// use for: router solicitations and advertisements, redirects, and
    /// solicitations for another address.
    ndisc_ignored => "NdiscIgnored",
    /// Datagrams dropped while their next hop was being resolved: its
    /// queue or the table of addresses being resolved was full, or nobody
    /// answered the last solicitation (Linux: unresolved_discards).
    unresolved_discards => "UnresolvedDiscards",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_merge_adds_each_field() {
        let mut names: Vec<_> = DeviceCounters::default().iter().map(|(n, _)| n).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
        let mut a = DeviceCounters {
            tx_dropped: 1,
            rx_nohandler: 2,
            ..DeviceCounters::default()
        };
        let b = DeviceCounters {
            tx_dropped: 10,
            unresolved_discards: 3,
            ..DeviceCounters::default()
        };
        a.merge(&b);
        let got: Vec<_> = a.iter().filter(|(_, v)| *v > 0).collect();
        assert_eq!(
            got,
            [
                ("TxDropped", 11),
                ("RxNohandler", 2),
                ("UnresolvedDiscards", 3)
            ]
        );
    }
}
