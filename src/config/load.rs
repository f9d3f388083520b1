//! Reading a module directory's `.tf` files into a [`super::Module`].
//! (To be written: see issue 3.)
