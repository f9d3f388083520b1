//! The `aws_availability_zones` data source, as
//! `internal/service/ec2/availability_zones_data_source.go` of the Terraform AWS provider.

use crate::providers::aws::ec2::filter;
use crate::providers::aws::support::{
    attrs, get_blocks, get_bool, get_str, get_strings, str_list, str_set, timeouts_block, Attrs,
    FailureExt, SdkResultExt,
};
use crate::providers::aws::{AwsContext, DataSourceType};
use crate::providers::schema::{Attribute, Block, Nesting};
use crate::providers::ProviderError;
use crate::value::{Type, Value};
use async_trait::async_trait;

/// `aws_availability_zones`: the region's zones, by state and filters.
pub struct AvailabilityZones;

#[async_trait]
impl DataSourceType for AvailabilityZones {
    fn schema(&self) -> Block {
        let block = Block::new()
            .attr("id", Attribute::computed(Type::String))
            .attr("all_availability_zones", Attribute::optional(Type::Bool))
            .attr("state", Attribute::optional(Type::String))
            .attr(
                "exclude_names",
                Attribute::optional(Type::set(Type::String)),
            )
            .attr(
                "exclude_zone_ids",
                Attribute::optional(Type::set(Type::String)),
            )
            .attr("names", Attribute::computed(Type::list(Type::String)))
            .attr("zone_ids", Attribute::computed(Type::list(Type::String)))
            .attr("group_names", Attribute::computed(Type::set(Type::String)))
            .block(
                "filter",
                Nesting::Set,
                Block::new()
                    .attr("name", Attribute::required(Type::String))
                    .attr("values", Attribute::required(Type::set(Type::String))),
            );
        timeouts_block(block, &["read"])
    }

    async fn read(&self, aws: &AwsContext, config: &Value) -> Result<Attrs, ProviderError> {
        let mut request = aws.ec2.describe_availability_zones();
        // As the provider: only `true` is sent (false and unset are alike).
        if get_bool(config, "all_availability_zones") == Some(true) {
            request = request.all_availability_zones(true);
        }
        if let Some(state) = get_str(config, "state") {
            request = request.filters(filter("state", [state]));
        }
        for block in get_blocks(config, "filter") {
            if let Some(name) = get_str(block, "name") {
                request = request.filters(filter(&name, get_strings(block, "values")));
            }
        }
        let out = request
            .send()
            .await
            .api()
            .or_fail("reading EC2 Availability Zones")?;
        let exclude_names = get_strings(config, "exclude_names");
        let exclude_ids = get_strings(config, "exclude_zone_ids");
        let mut zones: Vec<_> = out
            .availability_zones()
            .iter()
            .filter(|z| {
                !z.zone_name()
                    .is_some_and(|n| exclude_names.iter().any(|e| e == n))
            })
            .filter(|z| {
                !z.zone_id()
                    .is_some_and(|i| exclude_ids.iter().any(|e| e == i))
            })
            .collect();
        zones.sort_by_key(|z| z.zone_name().unwrap_or_default().to_string());
        Ok(attrs([
            ("id", Value::String(aws.region.clone())),
            (
                "names",
                str_list(zones.iter().filter_map(|z| z.zone_name())),
            ),
            (
                "zone_ids",
                str_list(zones.iter().filter_map(|z| z.zone_id())),
            ),
            (
                "group_names",
                str_set(zones.iter().filter_map(|z| z.group_name())),
            ),
        ]))
    }
}
