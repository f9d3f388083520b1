//! Network functions: cidrhost, cidrnetmask, cidrsubnet, cidrsubnets, for IPv4 and IPv6.
//!
//! Addresses are handled as integers of their width (32 or 128 bits). Parsing follows
//! Terraform's `ipaddr.ParseCIDR` (host bits may be set; they are masked off; IPv4 octets may
//! have leading zeros), and the arithmetic and error wording follow `go-cidr`, which
//! Terraform uses.

use super::{
    arg_error, failed, returns, string_value, whole_number, whole_number_i128, FunctionContext,
    FunctionError, FunctionSpec, Param,
};
use crate::value::{Type, Value};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub(super) fn functions() -> Vec<FunctionSpec> {
    let prefix = || Param::new("prefix", Type::String);
    vec![
        FunctionSpec::new(
            "cidrhost",
            vec![prefix(), Param::new("hostnum", Type::Number)],
            returns::string,
            cidrhost,
        ),
        FunctionSpec::new("cidrnetmask", vec![prefix()], returns::string, cidrnetmask),
        FunctionSpec::new(
            "cidrsubnet",
            vec![
                prefix(),
                Param::new("newbits", Type::Number),
                Param::new("netnum", Type::Number),
            ],
            returns::string,
            cidrsubnet,
        ),
        FunctionSpec::new(
            "cidrsubnets",
            vec![prefix()],
            returns::list_of_string,
            cidrsubnets,
        )
        .variadic(Param::new("newbits", Type::Number)),
    ]
}

/// A network: its first address as an integer, prefix length and address width.
#[derive(Clone, Copy, Debug)]
struct Network {
    address: u128,
    prefix: u32,
    bits: u32,
}

impl Network {
    fn mask(prefix: u32, bits: u32) -> u128 {
        let all = if bits == 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        };
        if prefix == 0 {
            0
        } else {
            (all << (bits - prefix)) & all
        }
    }

    fn host_mask(&self) -> u128 {
        !Network::mask(self.prefix, self.bits) & Network::mask(self.bits, self.bits)
    }

    fn last(&self) -> u128 {
        self.address | self.host_mask()
    }

    fn contains(&self, address: u128) -> bool {
        address & Network::mask(self.prefix, self.bits) == self.address
    }

    fn address_text(&self, address: u128) -> String {
        address_text(address, self.bits)
    }

    fn text(&self) -> String {
        format!("{}/{}", self.address_text(self.address), self.prefix)
    }

    fn with_prefix(address: u128, prefix: u32, bits: u32) -> Network {
        Network {
            address: address & Network::mask(prefix, bits),
            prefix,
            bits,
        }
    }
}

fn address_text(address: u128, bits: u32) -> String {
    if bits == 32 {
        Ipv4Addr::from(address as u32).to_string()
    } else {
        let v6 = Ipv6Addr::from(address);
        // Go prints an IPv4-mapped address in dotted form.
        match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => v6.to_string(),
        }
    }
}

/// Go's pre-1.17 IPv4 parser: four decimal parts, leading zeros allowed.
fn parse_ipv4(text: &str) -> Option<u32> {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut address = 0u32;
    for part in parts {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let octet: u32 = part.parse().ok()?;
        if octet > 255 {
            return None;
        }
        address = (address << 8) | octet;
    }
    Some(address)
}

fn parse_cidr(text: &str) -> Result<Network, String> {
    let invalid = || format!("invalid CIDR expression: invalid CIDR address: {text}");
    let (address_part, prefix_part) = text.split_once('/').ok_or_else(invalid)?;
    if prefix_part.is_empty()
        || !prefix_part.bytes().all(|b| b.is_ascii_digit())
        || prefix_part.len() > 3
    {
        return Err(invalid());
    }
    let prefix: u32 = prefix_part.parse().map_err(|_| invalid())?;
    let (address, bits) = match parse_ipv4(address_part) {
        Some(v4) => (u128::from(v4), 32),
        None => match address_part.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) => (u128::from(v6), 128),
            _ => return Err(invalid()),
        },
    };
    if prefix > bits {
        return Err(invalid());
    }
    // ipnet checks the prefix the same way; using it keeps the parse honest.
    let _checked: IpNet = if bits == 32 {
        Ipv4Net::new(Ipv4Addr::from(address as u32), prefix as u8)
            .map_err(|_| invalid())?
            .into()
    } else {
        Ipv6Net::new(Ipv6Addr::from(address), prefix as u8)
            .map_err(|_| invalid())?
            .into()
    };
    Ok(Network::with_prefix(address, prefix, bits))
}

fn cidrhost(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let hostnum = args[1]
        .as_number()
        .and_then(whole_number_i128)
        .ok_or_else(|| failed("value must be a whole number"))?;
    let network = parse_cidr(string_value(&args[0])).map_err(failed)?;
    let host_bits = network.bits - network.prefix;
    let max_host: u128 = if host_bits == 128 {
        u128::MAX
    } else {
        (1u128 << host_bits) - 1
    };
    let not_accommodated = |shown: i128| {
        failed(format!(
            "prefix of {} does not accommodate a host numbered {shown}",
            network.prefix
        ))
    };
    let offset = if hostnum < 0 {
        // Negative numbers count back from the last address: -1 is the last.
        let back = hostnum.unsigned_abs() - 1;
        if back > max_host {
            return Err(not_accommodated(hostnum));
        }
        max_host - back
    } else {
        let forward = hostnum.unsigned_abs();
        if forward > max_host {
            return Err(not_accommodated(hostnum));
        }
        forward
    };
    Ok(Value::from(network.address_text(network.address | offset)))
}

fn cidrnetmask(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let text = string_value(&args[0]);
    let network = parse_cidr(text).map_err(failed)?;
    if network.bits != 32 {
        return Err(failed(format!(
            "IPv6 addresses cannot have a netmask: {text}"
        )));
    }
    Ok(Value::from(address_text(
        Network::mask(network.prefix, 32),
        32,
    )))
}

fn subnet(network: &Network, newbits: i64, netnum: i128) -> Result<Network, String> {
    let new_prefix = i64::from(network.prefix) + newbits;
    if newbits < 0 || new_prefix > i64::from(network.bits) {
        return Err(format!(
            "insufficient address space to extend prefix of {} by {newbits}",
            network.prefix
        ));
    }
    let new_prefix = new_prefix as u32;
    let max_netnum: u128 = if newbits >= 128 {
        u128::MAX
    } else {
        (1u128 << newbits) - 1
    };
    if netnum < 0 || netnum.unsigned_abs() > max_netnum {
        return Err(format!(
            "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
        ));
    }
    let shift = network.bits - new_prefix;
    let offset = if shift >= 128 {
        0
    } else {
        netnum.unsigned_abs() << shift
    };
    Ok(Network::with_prefix(
        network.address | offset,
        new_prefix,
        network.bits,
    ))
}

fn cidrsubnet(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let newbits = whole_number(&args[1]).map_err(failed)?;
    let netnum = args[2]
        .as_number()
        .and_then(whole_number_i128)
        .ok_or_else(|| failed("value must be a whole number"))?;
    let network = parse_cidr(string_value(&args[0])).map_err(failed)?;
    let result = subnet(&network, newbits, netnum).map_err(failed)?;
    Ok(Value::from(result.text()))
}

fn cidrsubnets(args: Vec<Value>, _: &FunctionContext) -> Result<Value, FunctionError> {
    let network = parse_cidr(string_value(&args[0])).map_err(|message| arg_error(0, message))?;
    let lengths = &args[1..];
    if lengths.is_empty() {
        return Ok(Value::List(Vec::new()));
    }
    let first = whole_number(&lengths[0]).map_err(|message| arg_error(1, message))?;
    let first_prefix = (i64::from(network.prefix) + first).clamp(0, i64::from(network.bits)) as u32;
    // The subnet just before the network, so that the first "next" subnet is its start.
    let mut current = Network::with_prefix(
        network.address.wrapping_sub(1) & Network::mask(network.bits, network.bits),
        first_prefix,
        network.bits,
    );
    let mut results = Vec::with_capacity(lengths.len());
    for (position, length) in lengths.iter().enumerate() {
        let index = position + 1;
        let length = whole_number(length).map_err(|message| arg_error(index, message))?;
        if length < 1 {
            return Err(arg_error(index, "must extend prefix by at least one bit"));
        }
        if length > 32 {
            return Err(arg_error(
                index,
                "may not extend prefix by more than 32 bits",
            ));
        }
        let new_prefix = length + i64::from(network.prefix);
        if new_prefix > i64::from(network.bits) {
            let protocol = if network.bits == 32 { "IPv4" } else { "IPv6" };
            return Err(arg_error(
                index,
                format!("would extend prefix to {new_prefix} bits, which is too long for an {protocol} address"),
            ));
        }
        let new_prefix = new_prefix as u32;
        // go-cidr's NextSubnet: the subnet of the new size after the one holding the
        // current subnet's last address.
        let holding = Network::with_prefix(current.last(), new_prefix, network.bits);
        let all = Network::mask(network.bits, network.bits);
        let after = holding.last().wrapping_add(1) & all;
        let rolled_over = after == 0;
        let next = Network::with_prefix(after, new_prefix, network.bits);
        if rolled_over || !network.contains(next.address) {
            return Err(arg_error(
                index,
                format!(
                    "not enough remaining address space for a subnet with a prefix of {new_prefix} bits after {}",
                    current.text()
                ),
            ));
        }
        current = next;
        results.push(Value::from(current.text()));
    }
    Ok(Value::List(results))
}
