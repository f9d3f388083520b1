# References to one instance (`x[count.index]`, `x["key"]`, `x[1]`) are given the instance alone
# (`Scope::resolve_element`); each must read what indexing the whole resource or module call
# reads, beside whole references (`[*]`, `values`) that build it.
resource "fake_resource" "base" {
  count = 3
  name  = "base-${count.index}"
}

resource "fake_resource" "next" {
  count = 3
  name  = "next-${fake_resource.base[count.index].name}-${fake_resource.base[2 - count.index].name}"
}

resource "fake_resource" "keyed" {
  for_each = toset(["a", "b"])
  name     = "keyed-${each.key}"
}

module "env" {
  source = "./child"
  count  = 2
  name   = "env-${count.index}-${fake_resource.keyed["b"].name}"
}

module "by_key" {
  source   = "./child"
  for_each = { x = "one", y = "two" }
  name     = "${each.key}-${each.value}"
}

resource "fake_resource" "reader" {
  count = 2
  name  = join(",", [module.env[count.index].name, module.by_key["y"].name, module.env.1.name, fake_resource.next[0].name])
}

output "whole" {
  value = [module.env[*].name, [for k, m in module.by_key : m.name], fake_resource.next[*].name]
}
