// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/*
 * StableToken: a plain ERC-20 with 6 decimals (like USDC) that its owner mints. It stands in for a
 * stablecoin in tests and local setups of the conversion engine; it is not meant for a real chain.
 */

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

contract StableToken is ERC20, Ownable {
    /// USDC's precision: amounts are micro-dollars.
    uint8 private constant DECIMALS = 6;

    constructor(string memory name_, string memory symbol_, address owner_)
        ERC20(name_, symbol_)
        Ownable(owner_)
    {}

    function decimals() public pure override returns (uint8) {
        return DECIMALS;
    }

    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
