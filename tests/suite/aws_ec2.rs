//! The EC2 networking resources against the moto emulator, for the arguments that match the
//! Terraform AWS provider's `internal/service/ec2/` schemas: each one is sent to AWS, read
//! back, and a second plan shows no change. Objects this provider does not manage (instances,
//! network interfaces) are made with the SDK directly.

use crate::aws::{attr, map, s, text, Aws};
use strata::value::Value;

/// An instance (moto starts it at once) and a network interface in `subnet_id`, made with
/// the SDK: the provider has no resource for either.
async fn instance_and_interface(aws: &Aws, subnet_id: &str) -> (String, String) {
    let ec2 = aws_sdk_ec2::Client::new(&aws.sdk().await);
    let instance = ec2
        .run_instances()
        .image_id("ami-12c6146b")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .subnet_id(subnet_id)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .expect("run an instance")
        .instances()
        .first()
        .and_then(|i| i.instance_id())
        .expect("an instance id")
        .to_string();
    let interface = ec2
        .create_network_interface()
        .subnet_id(subnet_id)
        .send()
        .await
        .expect("create a network interface")
        .network_interface()
        .and_then(|i| i.network_interface_id())
        .expect("a network interface id")
        .to_string();
    (instance, interface)
}

/// What the emulator says the address with `allocation_id` is associated with:
/// (instance, network interface), empty when not.
async fn association_of(aws: &Aws, allocation_id: &str) -> (String, String) {
    let ec2 = aws_sdk_ec2::Client::new(&aws.sdk().await);
    let out = ec2
        .describe_addresses()
        .allocation_ids(allocation_id)
        .send()
        .await
        .expect("describe the address");
    let address = out.addresses().first().expect("the address exists");
    (
        address.instance_id().unwrap_or_default().to_string(),
        address
            .network_interface_id()
            .unwrap_or_default()
            .to_string(),
    )
}

async fn vpc_and_subnet(aws: &Aws) -> (String, String) {
    let vpc = aws
        .create(
            "aws_vpc",
            &aws.config("aws_vpc", vec![("cidr_block", s("10.0.0.0/16"))]),
        )
        .await;
    let vpc_id = text(&vpc, "id");
    let subnet = aws
        .create(
            "aws_subnet",
            &aws.config(
                "aws_subnet",
                vec![("vpc_id", s(&vpc_id)), ("cidr_block", s("10.0.1.0/24"))],
            ),
        )
        .await;
    (vpc_id, text(&subnet, "id"))
}

#[tokio::test]
async fn eip_associates_with_an_instance_moves_to_an_interface_and_disassociates() {
    let aws = Aws::start(&[]).await;
    let (_, subnet_id) = vpc_and_subnet(&aws).await;
    let (instance_id, interface_id) = instance_and_interface(&aws, &subnet_id).await;

    // Created associated with the instance: AWS names the instance's interface too.
    let with_instance = aws.config(
        "aws_eip",
        vec![("domain", s("vpc")), ("instance", s(&instance_id))],
    );
    let eip = aws.create("aws_eip", &with_instance).await;
    let allocation_id = text(&eip, "id");
    assert_eq!(text(&eip, "instance"), instance_id);
    assert!(text(&eip, "network_interface").starts_with("eni-"));
    assert!(text(&eip, "association_id").starts_with("eipassoc-"));
    assert!(!text(&eip, "private_ip").is_empty());
    let (remote_instance, _) = association_of(&aws, &allocation_id).await;
    assert_eq!(remote_instance, instance_id);

    // Moved to the standalone interface in place: the old association ends first.
    let with_interface = aws.config(
        "aws_eip",
        vec![
            ("domain", s("vpc")),
            ("network_interface", s(&interface_id)),
        ],
    );
    let plan = aws.plan("aws_eip", Some(&eip), &with_interface).await;
    assert!(attr(&plan.planned, "instance").is_unknown());
    assert!(attr(&plan.planned, "association_id").is_unknown());
    let moved = aws.update("aws_eip", &eip, &with_interface).await;
    assert_eq!(text(&moved, "id"), allocation_id, "not replaced");
    assert_eq!(text(&moved, "network_interface"), interface_id);
    assert_ne!(text(&moved, "association_id"), text(&eip, "association_id"));
    let (remote_instance, remote_interface) = association_of(&aws, &allocation_id).await;
    assert_eq!(
        (remote_instance.as_str(), remote_interface.as_str()),
        ("", interface_id.as_str())
    );

    // Back to the instance, with a private address named.
    let private_ip = {
        let ec2 = aws_sdk_ec2::Client::new(&aws.sdk().await);
        let out = ec2
            .describe_instances()
            .instance_ids(&instance_id)
            .send()
            .await
            .unwrap();
        out.reservations()[0].instances()[0]
            .private_ip_address()
            .unwrap()
            .to_string()
    };
    let back = aws.config(
        "aws_eip",
        vec![
            ("domain", s("vpc")),
            ("instance", s(&instance_id)),
            ("associate_with_private_ip", s(&private_ip)),
        ],
    );
    let back_state = aws.update("aws_eip", &moved, &back).await;
    assert_eq!(text(&back_state, "instance"), instance_id);
    assert_eq!(text(&back_state, "associate_with_private_ip"), private_ip);

    // Deleting an associated address disassociates it first.
    aws.delete("aws_eip", &back_state).await;
}

#[tokio::test]
async fn eip_created_on_an_interface_and_released_while_associated() {
    let aws = Aws::start(&[]).await;
    let (_, subnet_id) = vpc_and_subnet(&aws).await;
    let (_, interface_id) = instance_and_interface(&aws, &subnet_id).await;
    let config = aws.config(
        "aws_eip",
        vec![
            ("domain", s("vpc")),
            ("network_interface", s(&interface_id)),
            ("tags", map(&[("Name", "nat")])),
        ],
    );
    let eip = aws.create("aws_eip", &config).await;
    assert_eq!(text(&eip, "network_interface"), interface_id);
    assert_eq!(attr(&eip, "instance"), &Value::Null);
    let (_, remote_interface) = association_of(&aws, &text(&eip, "id")).await;
    assert_eq!(remote_interface, interface_id);
    // An unknown interface is AWS's error, pointed at the argument.
    let wrong = aws.config(
        "aws_eip",
        vec![
            ("domain", s("vpc")),
            ("network_interface", s("eni-00000000000000000")),
        ],
    );
    let plan = aws.plan("aws_eip", None, &wrong).await;
    let error = aws
        .apply("aws_eip", None, Some(plan.planned), wrong.clone())
        .await
        .unwrap_err();
    assert!(
        error.summary.contains("associating EC2 EIP"),
        "{}",
        error.summary
    );
    aws.delete("aws_eip", &eip).await;
}
