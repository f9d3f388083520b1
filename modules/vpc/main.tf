# A VPC with one public and one private subnet per availability zone, all carved from one CIDR
# block: public subnets take the first numbers, private ones the numbers after them. Public
# subnets route to the internet gateway; each private subnet routes through a NAT gateway, its
# zone's own or a single shared one.

locals {
  zone_count = length(var.availability_zones)

  # Subnet number of each zone's public and private subnet within the VPC's block.
  public_subnet_cidrs = {
    for index, zone in var.availability_zones : zone => cidrsubnet(var.cidr_block, var.subnet_newbits, index)
  }
  private_subnet_cidrs = {
    for index, zone in var.availability_zones : zone => cidrsubnet(var.cidr_block, var.subnet_newbits, local.zone_count + index)
  }

  # The zones that hold a NAT gateway, and the NAT gateway each private subnet uses.
  nat_zones = var.nat_gateway_per_az ? var.availability_zones : slice(var.availability_zones, 0, 1)
  nat_zone_for = {
    for zone in var.availability_zones : zone => var.nat_gateway_per_az ? zone : var.availability_zones[0]
  }
}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true

  tags = merge(var.tags, { Name = var.name })

  lifecycle {
    precondition {
      condition     = 2 * local.zone_count <= pow(2, var.subnet_newbits)
      error_message = "The VPC's block has room for ${pow(2, var.subnet_newbits)} subnets of this size, not the ${2 * local.zone_count} needed: raise subnet_newbits or use fewer zones."
    }
  }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_subnet" "public" {
  for_each = local.public_subnet_cidrs

  vpc_id                  = aws_vpc.this.id
  cidr_block              = each.value
  availability_zone       = each.key
  map_public_ip_on_launch = true

  tags = merge(var.tags, {
    Name                     = "${var.name}-public-${each.key}"
    "kubernetes.io/role/elb" = "1"
  })
}

resource "aws_subnet" "private" {
  for_each = local.private_subnet_cidrs

  vpc_id            = aws_vpc.this.id
  cidr_block        = each.value
  availability_zone = each.key

  tags = merge(var.tags, {
    Name                              = "${var.name}-private-${each.key}"
    "kubernetes.io/role/internal-elb" = "1"
  })
}

resource "aws_eip" "nat" {
  for_each = toset(local.nat_zones)

  domain = "vpc"

  tags = merge(var.tags, { Name = "${var.name}-nat-${each.key}" })
}

resource "aws_nat_gateway" "this" {
  for_each = toset(local.nat_zones)

  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = aws_subnet.public[each.key].id

  tags = merge(var.tags, { Name = "${var.name}-${each.key}" })

  # A NAT gateway only works once the VPC has its internet gateway.
  depends_on = [aws_internet_gateway.this]
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this.id
  }

  tags = merge(var.tags, { Name = "${var.name}-public" })
}

resource "aws_route_table_association" "public" {
  for_each = local.public_subnet_cidrs

  subnet_id      = aws_subnet.public[each.key].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "private" {
  for_each = toset(var.availability_zones)

  vpc_id = aws_vpc.this.id

  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.this[local.nat_zone_for[each.key]].id
  }

  tags = merge(var.tags, { Name = "${var.name}-private-${each.key}" })
}

resource "aws_route_table_association" "private" {
  for_each = local.private_subnet_cidrs

  subnet_id      = aws_subnet.private[each.key].id
  route_table_id = aws_route_table.private[each.key].id
}
