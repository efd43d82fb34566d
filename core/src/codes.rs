//! Lists written once: an enum of stable snake_case codes, with its list of every variant and
//! every code generated from the one declaration, so that a code added to the enum is in the
//! list, the schema the bindings generate from, and every exhaustive `match` at once (a `match`
//! that forgets it does not compile).

/// Declares a fieldless enum whose variants each have a stable code:
///
/// ```ignore
/// codes! {
///     /// The enum's docs.
///     pub enum Action / ACTION_CODES {
///         /// A variant's docs.
///         Act = "act",
///     }
/// }
/// ```
///
/// generates the enum (with the visibility given) (`Debug, Clone, Copy, PartialEq, Eq, Hash`), `Action::ALL` (every
/// variant, in order), `Action::code`, `Action::from_code`, `ACTION_CODES` (every code, in
/// order), and `Serialize` as the code.
macro_rules! codes {
    // Each variant with a one-line meaning, which is also its doc: `Variant = "code" => "…",`
    // generates `meaning()` besides.
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident / $all:ident {
            $( $variant:ident = $code:literal => $meaning:literal, )+
        }
    ) => {
        codes! {
            $(#[$meta])*
            $vis enum $name / $all {
                $( #[doc = $meaning] $variant = $code, )+
            }
        }

        impl $name {
            /// A one-line meaning, the variant's doc.
            $vis const fn meaning(self) -> &'static str {
                match self {
                    $( $name::$variant => $meaning, )+
                }
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident / $all:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every variant, in the order of the declaration.
            // Generated for every list; a crate-private one may not need each item.
            #[allow(dead_code)]
            $vis const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable snake_case code.
            #[allow(dead_code)]
            $vis const fn code(self) -> &'static str {
                match self {
                    $( $name::$variant => $code, )+
                }
            }

            /// The variant with this code.
            #[allow(dead_code)]
            $vis fn from_code(code: &str) -> Option<$name> {
                match code {
                    $( $code => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        #[doc = concat!("Every [`", stringify!($name), "`] code, in order.")]
        #[allow(dead_code)]
        $vis const $all: &[&str] = &[$($code),+];
    };
}

pub(crate) use codes;
